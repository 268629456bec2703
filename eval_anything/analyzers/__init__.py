"""Media analyzers: measure what generated images, sounds and clips really contain (colors,
shapes, counts, motion, beeps, pitch). The mini suite's instruction-following judges use them
on the procedural generator's output; they read pixels and samples, never the instruction."""
