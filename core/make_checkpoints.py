"""Regenerate the small default checkpoints shipped in assets/checkpoints/.

Some default trainings are too slow for a good first view on 2 CPU cores (DCGAN runs ~3 it/s), so
the app ships their result, made by this script from the modules' own ``train`` and a fixed seed,
in fp16 to keep them a few MB. A topic opts in by listing Configs in ``BUNDLE_CONFIGS``.

    python -m core.make_checkpoints            # every topic that bundles checkpoints
    python -m core.make_checkpoints gan        # one topic
"""

from __future__ import annotations

import argparse
import time

import core
from core.checkpoints import BUNDLED_DIR, config_key, save_checkpoint


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topics", nargs="*", help="topics to rebuild (default: all that bundle)")
    args = parser.parse_args(argv)
    for name, module in core.registry().items():
        configs = getattr(module, "BUNDLE_CONFIGS", ())
        if not configs or (args.topics and name not in args.topics):
            continue
        for cfg in configs:
            start = time.perf_counter()
            model, history = module.train(cfg)
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            path = BUNDLED_DIR / f"{config_key(cfg)}.pt"
            save_checkpoint(path, {"state_dict": state, "history": list(history)}, half=True)
            print(f"{name}: {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
