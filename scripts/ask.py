"""Ask the base or the tuned model a letter question (non-thinking, the profile's decoding settings).

    .venv/bin/python -m scripts.ask "How many times does the letter 'r' appear in 'strawberry'?"
    .venv/bin/python -m scripts.ask --base "What is the 3rd letter of 'added'?"

Prints the parsed answer and the raw reply. The profile is params.yaml's `model` (or --profile).
"""

import argparse

from strawberry.inference import generate_replies
from strawberry.params import load_params
from strawberry.profiles import load_model, load_profile
from strawberry.prompts import chat_template_kwargs, render_prompt
from strawberry.tasks import guess_task, parse_answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    parser.add_argument("--base", action="store_true", help="ask the base model instead of the tuned adapter")
    parser.add_argument("--adapter", default="models/adapter")
    parser.add_argument("--profile", help="a profile of params.yaml (default: its `model`)")
    parser.add_argument("--task", choices=["position", "count", "length"], help="how to parse (default: guessed)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    params = load_params()
    profile = load_profile({**params, "model": args.profile or params["model"]})
    model, tokenizer = load_model(profile, adapter=None if args.base else args.adapter)
    prompt = render_prompt(tokenizer, {"instruction": args.question, "input": ""}, (),
                           chat_template_kwargs(tokenizer, profile.chat_template_kwargs))  # fmt: skip
    reply = generate_replies(model, tokenizer, [prompt], profile.generation, 1, args.seed, desc="asking")[0]
    task = args.task or guess_task(args.question)
    parsed = parse_answer(task, reply)
    print(f"answer ({task}, {'base' if args.base else 'tuned'} {profile.name}): {parsed.lenient}")
    print(f"raw reply: {reply!r}")


if __name__ == "__main__":
    main()
