"""The demo's bundled preference pairs, as data, and the script that writes them.

    python -m eval_anything.trainers.demo.bundled_data          # rewrite tasks/mini/demo/
    python -m eval_anything.trainers.demo.bundled_data --check  # exit 1 if a file differs

The instructions are *held out*: none is an item of the modality-selection mini task (a test
checks), so the demo's gain is generalization to new subjects, not memorized items. They cover
the request kinds whose crowd votes the selection data shows, each labelled by hand with the
combination people prefer for that kind: answers, facts and writing take text (``t``); "show /
draw / illustrate / diagram / design" take text and an image (``ti``); "what does it sound like /
play / sing / pronounce" take text and audio (``ta``). As the task's prompt asks, a text that
comes with a picture or a sound refers to it, in its first words ("See the picture.", "Listen to
the sound."). Each instruction gives three pairs with the same chosen answer (the section format
with the preferred combination): against the plain answer without sections (what an untrained
chat model writes), and against each of the two other combinations in the same format.
``feedback.jsonl`` holds the same items as language-feedback rows (prompt, plain response,
critique, refinement) for ``train sft``, ``train critic`` and the LLF examples.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def data_file() -> Path:
    """``tasks/mini/demo/selection_pairs.jsonl``, wherever the suites package is installed."""
    import eval_anything.tasks

    return Path(eval_anything.tasks.__file__).resolve().parent / "mini" / "demo" / (
        "selection_pairs.jsonl"
    )


# (instruction, preferred combination, text answer, image prompt, audio prompt); every item has
# all three parts so that a rejected answer with a wrong combination is as specific as the chosen.
ITEMS: list[tuple[str, str, str, str, str]] = [
    # answers, facts, writing: text only
    ("What is 12 plus 30?", "t", "12 plus 30 is 42.", "The numbers 12 + 30 = 42 on a chalkboard.",
     "A voice reading: twelve plus thirty is forty-two."),
    ("What is the capital of Japan?", "t", "The capital of Japan is Tokyo.",
     "A map of Japan with Tokyo marked.", "A voice saying: Tokyo."),
    ("How many legs does a spider have?", "t", "A spider has eight legs.",
     "A spider with eight legs on a web.", "A voice saying: eight legs."),
    ("Write a haiku about rain.", "t",
     "Soft rain on the roof / the garden drinks in silence / puddles hold the sky.",
     "Rain falling on a garden.", "Gentle rain falling on a roof."),
    ("What is the boiling point of water at sea level?", "t",
     "Water boils at 100 degrees Celsius at sea level.", "A pot of boiling water.",
     "Water bubbling in a pot."),
    ("Translate 'thank you' into French.", "t", "'Thank you' in French is 'merci'.",
     "The word merci in large letters.", "A French speaker saying merci."),
    ("Name three primary colors.", "t", "Red, yellow and blue.",
     "Three paint blobs: red, yellow and blue.", "A voice listing red, yellow, blue."),
    ("Who wrote Romeo and Juliet?", "t", "William Shakespeare wrote Romeo and Juliet.",
     "A portrait of William Shakespeare.", "A voice saying: William Shakespeare."),
    ("Summarize why we need sleep in one sentence.", "t",
     "Sleep lets the body recover and the brain store memories.", "A person sleeping in bed.",
     "Soft snoring."),
    ("What is 9 times 7?", "t", "9 times 7 is 63.", "The sum 9 x 7 = 63 written on paper.",
     "A voice saying: sixty-three."),
    ("Give me a synonym for 'happy'.", "t", "A synonym for 'happy' is 'joyful'.",
     "A smiling face.", "A voice saying: joyful."),
    ("Which planet is closest to the sun?", "t", "Mercury is the closest planet to the sun.",
     "Mercury next to the sun.", "A voice saying: Mercury."),
    ("Explain why the sky is blue.", "t",
     "Air scatters blue sunlight more than red, so the sky looks blue.", "A clear blue sky.",
     "Wind blowing softly."),
    ("Write a two-line poem about the sea.", "t",
     "The sea breathes in, the sea breathes out / and every wave forgets its doubt.",
     "Waves on a beach.", "Waves washing on a shore."),
    ("List the days of the week.", "t",
     "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday.",
     "A calendar page with the seven days.", "A voice reading the days of the week."),
    ("What year did the Second World War end?", "t", "The Second World War ended in 1945.",
     "A newspaper headline from 1945.", "A crowd cheering."),
    ("Translate 'good night' into German.", "t", "'Good night' in German is 'Gute Nacht'.",
     "A moon over a house.", "A German speaker saying Gute Nacht."),
    ("What is the difference between weather and climate?", "t",
     "Weather is the day-to-day state of the air; climate is its long-term average.",
     "A sun and a cloud beside a calendar.", "Rain and wind."),
    # show, draw, illustrate, diagram, design: text and image
    ("Show me what a giraffe looks like.", "ti",
     "A giraffe is a tall animal with a long neck and brown patches.",
     "A tall giraffe with a long neck and brown patches on a savanna.",
     "A giraffe chewing leaves."),
    ("Draw a simple picture of a rocket.", "ti", "A simple rocket with red fins.",
     "A simple cartoon rocket, white body, red fins, flame at the bottom.", "A rocket launching."),
    ("Design a poster for a school science fair.", "ti",
     "A bright poster with the fair's name and date.",
     "A colorful science fair poster with a beaker, a planet and bold title text.",
     "Upbeat background music."),
    ("Show a diagram of a plant cell and explain its parts.", "ti",
     "A plant cell has a wall, a membrane, a nucleus and chloroplasts.",
     "A labelled diagram of a plant cell with wall, membrane, nucleus and chloroplasts.",
     "A voice naming the parts of a cell."),
    ("Illustrate a snowy village at night.", "ti", "A quiet village under snow at night.",
     "Small houses covered in snow at night, warm lit windows, falling snowflakes.",
     "Wind over snow at night."),
    ("What does the Eiffel Tower look like?", "ti",
     "It is a tall iron lattice tower that narrows toward the top.",
     "The Eiffel Tower in Paris, iron lattice, blue sky.", "Street sounds in Paris."),
    ("Sketch a floor plan of a small kitchen.", "ti",
     "A small kitchen with a sink, a stove and a fridge along one wall.",
     "A simple floor plan of a small kitchen: sink, stove, fridge.", "A kettle whistling."),
    ("Make a chart that compares the sizes of three fruits.", "ti",
     "A watermelon is largest, then an apple, then a grape.",
     "A bar chart comparing watermelon, apple and grape sizes.", "A voice naming three fruits."),
    ("Show me a picture of a red panda.", "ti",
     "A red panda has reddish fur, a ringed tail and a white face.",
     "A red panda with reddish fur and a ringed tail on a branch.", "Leaves rustling."),
    ("Draw a cartoon cat wearing a hat.", "ti", "A cartoon cat with a tall blue hat.",
     "A cartoon cat wearing a tall blue hat, simple lines.", "A cat meowing."),
    ("Design a logo for a bicycle shop.", "ti", "A round logo with a bicycle wheel.",
     "A round logo with a bicycle wheel and the words Bike Shop.", "A bicycle bell ringing."),
    ("Show how the moon's phases look over a month.", "ti",
     "The moon goes from new to full and back in about 29 days.",
     "A row of moon phases from new moon to full moon.", "Crickets at night."),
    ("Illustrate a castle on a hill.", "ti", "A stone castle on a green hill.",
     "A stone castle with towers on a green hill, blue sky.", "Wind around castle walls."),
    ("Draw a map of a park with a pond and two paths.", "ti",
     "A park with a pond in the middle and two crossing paths.",
     "A simple map of a park: a pond in the middle, two crossing paths, trees.",
     "Ducks on a pond."),
    # what does it sound like, play, sing, pronounce: text and audio
    ("What does a violin sound like?", "ta",
     "A violin sounds warm and singing, high and smooth.", "A violin on a wooden table.",
     "A solo violin playing a slow, warm melody."),
    ("Play the sound of rain on a window.", "ta", "Rain tapping steadily on the glass.",
     "Raindrops on a window.", "Steady rain tapping on a glass window."),
    ("Sing a short happy tune for a morning.", "ta", "A cheerful tune to start the day.",
     "A sunrise over a town.", "A short, bright, cheerful melody sung in a major key."),
    ("How does the word 'croissant' sound in French?", "ta", "It sounds like 'kwah-sahn'.",
     "A croissant on a plate.", "A French speaker saying the word 'croissant' clearly."),
    ("What does a church bell sound like?", "ta", "A church bell rings with a deep, long tone.",
     "A church bell tower.", "A church bell ringing slowly with deep, echoing tones."),
    ("Let me hear what a drum roll sounds like.", "ta", "A drum roll is a fast, building rumble.",
     "A snare drum with sticks.", "A snare drum roll that builds and ends with a cymbal crash."),
    ("What does an owl hoot sound like at night?", "ta", "An owl gives a soft, low 'hoo-hoo'.",
     "An owl on a branch at night.", "An owl hooting softly in a quiet forest at night."),
    ("Teach me the rhythm of a waltz.", "ta", "A waltz counts in three: ONE two three.",
     "Two people dancing a waltz.", "A waltz rhythm in three-four time with a strong first beat."),
    ("What does a trumpet sound like?", "ta", "A trumpet sounds bright, loud and brassy.",
     "A shiny brass trumpet.", "A trumpet playing a short bright fanfare."),
    ("Play the sound of a crackling campfire.", "ta", "A campfire crackling and popping.",
     "A campfire at night.", "A campfire crackling and popping."),
    ("Hum a calm melody to help me relax.", "ta", "A slow, calm melody.",
     "A calm lake at dusk.", "A slow, soft hummed melody."),
    ("How is the word 'Worcestershire' pronounced?", "ta", "It is pronounced 'WUSS-ter-sher'.",
     "A bottle of Worcestershire sauce.", "A voice saying 'Worcestershire' slowly."),
    ("What does a whale song sound like?", "ta",
     "A whale song is a series of long, low moans and high calls.", "A humpback whale underwater.",
     "Long, low humpback whale calls echoing underwater."),
    ("What does a cello sound like compared with a flute?", "ta",
     "A cello sounds deep and warm; a flute sounds light and airy.", "A cello and a flute.",
     "A cello note followed by a flute note."),
]

# wrong combinations each kind of item is contrasted with (the chosen is ITEMS' combination)
WRONG = {"t": ("ti", "ta"), "ti": ("ta", "t"), "ta": ("ti", "t")}


# The task asks the text to refer to the picture or the sound it comes with; doing so first also
# puts the choice of modalities in the answer's opening words, right after the question.
LEADS = {"ti": "See the picture. ", "ta": "Listen to the sound. "}


def sectioned(combo: str, text: str, image: str, audio: str) -> str:
    """The answer in the task's section format; an unchosen section says None."""
    response = LEADS.get(combo, "") + text
    return (
        f"[[response]]: {response if 't' in combo else 'None'}\n"
        f"[[image_instruction]]: {image if 'i' in combo else 'None'}\n"
        f"[[audio_instruction]]: {audio if 'a' in combo else 'None'}"
    )


def pairs() -> list[dict[str, str]]:
    """Per instruction: the chosen answer against a plain answer (format) and against two
    wrong combinations in the same format (the choice of modalities)."""
    rows = []
    for i, (instruction, combo, text, image, audio) in enumerate(ITEMS):
        chosen = sectioned(combo, text, image, audio)
        rows.append({"id": f"demo-{i:02d}-plain", "prompt": instruction, "chosen": chosen,
                     "rejected": text, "combination": combo})
        for wrong in WRONG[combo]:
            rows.append({"id": f"demo-{i:02d}-not-{wrong}", "prompt": instruction,
                         "chosen": chosen, "rejected": sectioned(wrong, text, image, audio),
                         "combination": combo})
    return rows


NAMES = {"t": "text", "i": "an image", "a": "audio"}


def critique_of(combo: str) -> str:
    """What a critic would say to a plain answer of an item whose best combination is combo."""
    wanted = " and ".join(NAMES[c] for c in combo)
    unused = [NAMES[c] for c in "tia" if c not in combo]
    tail = f" Write None for {' and '.join(unused)}." if unused else ""
    return (f"The answer ignores the required format. Answer in the [[response]], "
            f"[[image_instruction]] and [[audio_instruction]] sections and use {wanted}.{tail}")


def feedback_rows() -> list[dict[str, str]]:
    """LLF-format rows (prompt, response, refinement, critique): the plain answer refined."""
    rows = []
    for i, (instruction, combo, text, image, audio) in enumerate(ITEMS):
        rows.append({"id": f"demo-{i:02d}", "prompt": instruction, "response": text,
                     "critique": critique_of(combo),
                     "refinement": sectioned(combo, text, image, audio)})
    return rows


def _jsonl(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def render() -> dict[str, str]:
    """File name -> content of every bundled demo data file."""
    return {"selection_pairs.jsonl": _jsonl(pairs()), "feedback.jsonl": _jsonl(feedback_rows())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write or check the demo's preference pairs.")
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    folder = data_file().parent
    stale = []
    for name, text in render().items():
        path = folder / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if args.check:
        print(f"{folder}: " + (f"differs: {', '.join(stale)}; rerun without --check" if stale
                               else "up to date"))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
