"""dvc.yaml lists, for every stage, each first-party module its command imports (transitively, lazy imports
included) and each repo data file those modules name: so that editing any of them makes `dvc status` show the
stage, and nothing else (no stage depends on the whole package)."""

import ast
import subprocess
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("strawberry", "stages")
DATA_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml", ".txt")
NOT_DEPS = {"params.yaml"}  # read through each stage's `params:` keys


def module_file(name: str) -> Path | None:
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None  # not a module: a name imported from one (from strawberry.x import y)


def imported_modules(tree: ast.AST) -> set[str]:
    """First-party names imported anywhere in a module (inside functions too), and their parent packages."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    names = {n for n in names if n.split(".")[0] in FIRST_PARTY}
    return names | {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 1)}


@cache
def tracked() -> frozenset[str]:
    """Files and folders git tracks (what a fresh clone has), so that scratch paths like models/checkpoints/ are
    not mistaken for inputs."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return frozenset(files) | {str(Path(f).parents[i]) for f in files for i in range(len(Path(f).parents) - 1)}


def data_files(path: Path, tree: ast.AST, outs: set[str]) -> set[str]:
    """Repo files a module names in string literals: a repo path ("data/splits/val.jsonl": a stage output, or a
    file or folder git tracks) or a data file beside the module in its package (schemas/...)."""
    found = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or not node.value or " " in node.value:
            continue
        text = node.value
        if "/" in text and not text.startswith("/") and "{" not in text and (text in outs or text in tracked()):
            found.add(text.rstrip("/"))
        elif text.endswith(DATA_SUFFIXES) and "/" not in text:
            found |= {str(p.relative_to(ROOT)) for p in path.parent.rglob(text)}
    return found - NOT_DEPS


def stage_reads(module: str, outs: set[str]) -> set[str]:
    """Every first-party module file `python -m module` can import, and the data files they name."""
    files, seen, todo = set(), set(), [module]
    while todo:
        name = todo.pop()
        path = module_file(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        tree = ast.parse(path.read_text(), filename=str(path))
        files |= {str(path.relative_to(ROOT))} | data_files(path, tree, outs)
        todo += sorted(imported_modules(tree))
    return files


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def covered(path: str, deps: set[str]) -> bool:
    """A dep names the file itself or a folder holding it; a folder the code names (load_separators("data/templates"))
    is covered by the files of it that are listed."""
    return any(inside(path, dep) or inside(dep, path) for dep in deps)


def stages() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def entry(item) -> str:
    return item if isinstance(item, str) else next(iter(item))


def outputs(spec: dict) -> set[str]:
    """A stage's outputs: its outs, metrics and plots."""
    return {entry(o) for key in ("outs", "metrics", "plots") for o in spec.get(key, [])}


def test_every_stage_lists_its_imports_and_data_files():
    all_stages = stages()
    problems = []
    every_out = {out for s in all_stages.values() for out in outputs(s)}
    for name, spec in all_stages.items():
        outs = outputs(spec)
        module = spec["cmd"].split()[-1]
        assert spec["cmd"] == f"python -m {module}", f"dvc.yaml stage {name}: cmd is not `python -m <module>`"
        deps = {entry(d) for d in spec["deps"]}
        # not its outs (nor the folder holding one: dvclive/train, whose plots train declares)
        reads = {p for p in stage_reads(module, every_out) if not covered(p, outs)}
        missing = sorted(p for p in reads if not covered(p, deps))
        problems += [f"dvc.yaml stage {name}: {path} is read (imported by `python -m {module}`) but not in deps"
                     for path in missing]  # fmt: skip
    assert not problems, "\n".join(problems)


def test_no_stage_lists_a_module_it_does_not_import():
    """The other direction: a listed module the stage never imports reruns it for nothing."""
    problems = []
    for name, spec in stages().items():
        reads = stage_reads(spec["cmd"].split()[-1], set())
        extra = [d for d in map(entry, spec["deps"]) if d.endswith(".py") and d not in reads]
        problems += [f"dvc.yaml stage {name}: {path} is in deps but never imported" for path in extra]
    assert not problems, "\n".join(problems)


def test_the_walk_finds_lazy_imports_and_package_data(tmp_path):
    """The checker itself: an import inside a function and a schema file named by its file name both count."""
    reads = stage_reads("strawberry.profiles", set())
    assert "strawberry/tokenizer.py" in reads  # imported inside _build_random only
    assert "strawberry/__init__.py" in reads
    assert "strawberry/schemas/alpaca_record.schema.json" in stage_reads("strawberry.records", set())
    assert not covered("strawberry/asking.py", {"strawberry/ask.py", "strawberry/ask"})
    assert covered("data/templates/separators.yaml", {"data/templates"})
    assert covered("data/templates", {"data/templates/separators.yaml"})


def test_base_answers_depend_on_every_evaluate_key_but_the_tuned_models_own():
    """evaluate_base lists the evaluate keys one by one (so that a tuned-only key, e.g. tuned_settings, keeps the
    base answers cached): a new evaluate key must be added there, or to TUNED_ONLY."""
    from strawberry.evaluation import TUNED_ONLY

    evaluate = yaml.safe_load((ROOT / "params.yaml").read_text())["evaluate"]
    listed = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["evaluate_base"]["params"]
    assert set(TUNED_ONLY) <= set(evaluate)
    assert sorted(p for p in listed if p.startswith("evaluate")) == sorted(
        f"evaluate.{k}" for k in evaluate if k not in TUNED_ONLY
    )
