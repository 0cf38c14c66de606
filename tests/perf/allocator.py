"""LoRA training steps under glibc's default malloc against transparent huge pages for its large blocks, in one run
(a script, not a test).

    .venv/bin/python -m tests.perf.allocator [profile] [steps]

On a CPU, every training step allocates and frees activations of tens to hundreds of MB. glibc hands blocks that
large to mmap and back to the kernel when freed, so the next step faults them in again, 4 KiB at a time: on a
2-core AVX2 machine a third of the training process's time was the kernel's (about 200,000 page faults a second).
`GLIBC_TUNABLES=glibc.malloc.hugetlb=1` asks for transparent huge pages (2 MiB, not 4 KiB) on those blocks.
Each setting runs in its own process (glibc reads the tunable at start) over the same batches: seconds per step,
minor page faults per step, and whether the losses came out the same to the last bit (the arithmetic must not
change). Prints the ratio against the default.
"""

import json
import os
import resource
import subprocess
import sys
import time

from strawberry.dvc_cli import HUGE_PAGES

SETTINGS = {"glibc default": {}, "glibc huge pages": HUGE_PAGES}
BATCH, LENGTH, RANK = 8, 224, 8  # the arms' batch size and LoRA rank, a worked record's typical length in tokens


def child(name: str, steps: int) -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    from strawberry.params import load_params
    from strawberry.precision import autocast
    from strawberry.profiles import load_model, load_profile, run_precision

    params = load_params()
    profile = load_profile({**params, "model": name})
    model, _ = load_model(profile, for_training=True)
    lora = params["lora"]
    config = LoraConfig(r=RANK, lora_alpha=lora["alpha"], target_modules=lora["target_modules"], task_type="CAUSAL_LM")
    torch.manual_seed(0)
    model = get_peft_model(model, config)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    shape = (steps + 1, BATCH, LENGTH)
    ids = torch.randint(0, model.config.vocab_size, shape, generator=torch.Generator().manual_seed(0))
    losses, seconds = [], []
    faults = 0
    for i in range(steps + 1):  # the first step warms up and is not counted
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start = time.perf_counter()
        with autocast(run_precision(profile)):
            loss = model(input_ids=ids[i], labels=ids[i]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if i:
            seconds.append(time.perf_counter() - start)
            faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        losses.append(loss.item())
    print(json.dumps({"s_per_step": sum(seconds) / steps, "faults_per_step": faults / steps, "losses": losses,
                      "precision": run_precision(profile)}))  # fmt: skip


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2], int(sys.argv[3]))
    name = sys.argv[1] if len(sys.argv) > 1 else "qwen25-coder-05b"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    found = {}
    without_tunables = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}  # the default is glibc's own
    for label, env in SETTINGS.items():
        out = subprocess.run([sys.executable, "-m", "tests.perf.allocator", "--child", name, str(steps)],
                             env={**without_tunables, **env}, capture_output=True, text=True, check=True)  # fmt: skip
        found[label] = json.loads(out.stdout.strip().splitlines()[-1])
        r = found[label]
        print(f"{label}: {r['s_per_step']:.2f} s/step, {r['faults_per_step']:,.0f} page faults/step ({r['precision']})")
    default, huge = found.values()
    same = default["losses"] == huge["losses"]
    print(f"profile {name}, {steps} steps of {BATCH} x {LENGTH} tokens: huge pages / default speed "
          f"{default['s_per_step'] / huge['s_per_step']:.2f}x; losses {'identical' if same else 'DIFFER'}")


if __name__ == "__main__":
    main()
