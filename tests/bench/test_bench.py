"""``genviz bench --quick --json`` produces every key of the performance table (figures are not asserted:
timings belong to the benchmark, not to tests). ``--smoke`` runs the same code on token workloads."""
import json

from genviz.bench import KEYS, OPTIONAL, format_table
from genviz.cli import main


def test_bench_quick_json_has_every_key(tmp_path, qapp, capsys):
    out = tmp_path / "bench.json"
    rc = main(["bench", "--quick", "--smoke", "--json", str(out)])
    res = json.loads(out.read_text())
    assert rc == 0, res["errors"]
    assert set(KEYS) <= set(res)
    for k in KEYS:
        if k in OPTIONAL and res[k] is None:  # e.g. the remote server's ratio: not measured with --smoke
            continue
        assert isinstance(res[k], float), (k, res[k])
    assert res["ddim_vs_diffusers_max_abs_diff"] <= 1e-4  # a correctness figure, not a timing
    assert 0 < res["window_shown_s"] <= res["first_step_s"]
    assert res["history_mb_1000x64"] > 0
    printed = capsys.readouterr().out
    assert all(k in printed for k in KEYS)


def test_table_marks_misses():
    res = {k: None for k in KEYS}
    res.update(ddim_vs_diffusers_time_ratio=1.5, gui_max_stall_ms=12.0)
    table = format_table(res)
    row = {line.split()[0]: line for line in table.splitlines() if line.split()}
    assert row["ddim_vs_diffusers_time_ratio"].rstrip().endswith("MISS")
    assert row["gui_max_stall_ms"].rstrip().endswith("ok")
    assert "n/a" in row["sdedit_latency_s"]
