/// The console's one stylesheet and one script, served from `/console/static/` so the
/// Content-Security-Policy allows no inline code at all. Plain CSS and a little plain
/// JavaScript: no build chain.
enum ConsoleAssets {
    static let css = """
        :root { --fg: #1d2430; --muted: #5b6575; --line: #d9dee6; --bg: #f6f7f9; --accent: #1f5fbf; --bad: #b3261e; --warn: #9a6700; --ok: #1a7f37; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; padding: .6rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
        header .brand { font-weight: 600; }
        header nav { display: flex; gap: 1rem; flex-wrap: wrap; }
        header form { margin-left: auto; }
        main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus { outline: 3px solid #8ab4f8; outline-offset: 1px; }
        h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: .75rem; margin-bottom: 1rem; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
        .card b { display: block; font-size: 1.3rem; }
        .scroll { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; vertical-align: top; }
        td.wrap { white-space: normal; }
        th a { color: inherit; text-decoration: none; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .state-ok { color: var(--ok); } .state-warn { color: var(--warn); } .state-bad { color: var(--bad); font-weight: 600; }
        form.inline { display: inline; }
        .filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .75rem; }
        label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
        input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 4px; }
        button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
        button.quiet { background: #fff; color: var(--accent); }
        .notice { padding: .6rem .8rem; border-radius: 6px; background: #fff4e5; border: 1px solid #f0c36d; margin-bottom: 1rem; }
        .error { background: #fdecea; border-color: #f5a9a3; }
        .login { max-width: 420px; margin: 3rem auto; background: #fff; padding: 1.5rem; border: 1px solid var(--line); border-radius: 8px; }
        .login input { width: 100%; }
        .chart { width: 100%; max-width: 640px; height: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
        .chart .series { stroke: var(--accent); stroke-width: 2; }
        .chart .axis { stroke: var(--line); }
        .chart .tick, .chart .empty { font-size: 11px; fill: var(--muted); }
        .muted { color: var(--muted); }
        @media (max-width: 600px) {
          main { padding: .5rem; }
          header form { margin-left: 0; }
          th, td { padding: .3rem .4rem; }
          .hide-narrow { display: none; }
        }
        """

    /// Times in the viewer's time zone (the server writes UTC into `datetime`), and the
    /// fleet table's quick filter. Works without it: times then read as UTC.
    static let js = """
        "use strict";
        document.addEventListener("DOMContentLoaded", () => {
          const format = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
          for (const element of document.querySelectorAll("time[datetime]")) {
            const date = new Date(element.getAttribute("datetime"));
            if (!isNaN(date)) { element.textContent = format.format(date); element.title = element.getAttribute("datetime"); }
          }
          const zone = document.getElementById("zone");
          if (zone) { zone.textContent = Intl.DateTimeFormat().resolvedOptions().timeZone; }
          const filter = document.getElementById("quick-filter");
          const rows = document.querySelectorAll("#fleet tbody tr");
          if (filter) {
            filter.addEventListener("input", () => {
              const needle = filter.value.trim().toLowerCase();
              for (const row of rows) { row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle); }
            });
          }
        });
        """
}
