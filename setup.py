"""Maps the repository's top-level folders under the ``eval_anything`` namespace when installed,
so nothing squats generic names (``tasks``, ``trainers``, ``leaderboard``, ``configs``) in
site-packages."""

from setuptools import find_packages, setup

ROOTS = {
    "eval_anything": "eval_anything",
    "eval_anything.trainers": "trainers",
    "eval_anything.leaderboard": "leaderboard",
    "eval_anything.tasks": "tasks",
    "eval_anything.configs": "configs",
}

packages: list[str] = []
for package, folder in ROOTS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=ROOTS)
