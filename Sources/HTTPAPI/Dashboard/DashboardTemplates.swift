import Mustache

/// The dashboard's Mustache templates, as constants so the binary carries them. `{{x}}` is
/// HTML-escaped by Mustache; the only unescaped value (`{{{chart}}}`) is SVG built from numbers
/// by `SVGChart`. Pages share `head` and `foot`.
enum DashboardTemplates {
    static let head = """
    <!doctype html><html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>{{title}} · leadrouter</title>
    <style>
    body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
    header{background:#1d2330;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center;flex-wrap:wrap}
    header a{color:#fff}main{padding:1em;max-width:1100px;margin:auto}
    table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:1em}
    td,th{padding:.35em .5em;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
    .num{text-align:right}.card{background:#fff;padding:1em;margin-bottom:1em;border-radius:6px}
    pre{white-space:pre-wrap;word-break:break-word;background:#eef0f3;padding:.5em}
    .scroll{overflow-x:auto}svg{max-width:100%}
    </style></head><body><header><strong>leadrouter</strong><a href="/dashboard">Overview</a>
    <form method="get" action="/dashboard/leads"><input name="q" placeholder="email, user id or lead id" aria-label="lead"></form>
    <form method="post" action="/dashboard/logout"><button>Log out</button></form></header><main>
    """
    static let foot = "</main></body></html>"

    static let login = """
    <!doctype html><html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>Log in · leadrouter</title></head>
    <body style="font:15px system-ui,sans-serif;max-width:24em;margin:3em auto;padding:0 1em">
    <h1>leadrouter dashboard</h1>{{#error}}<p role="alert" style="color:#b00020">{{error}}</p>{{/error}}
    <form method="post" action="/dashboard/login"><label>API key (scope read)<br>
    <input type="password" name="key" autocomplete="current-password" required style="width:100%"></label>
    <p><button type="submit">Log in</button></p></form></body></html>
    """

    static let overview = """
    {{> head}}<h1>Overview</h1><p>Active ruleset version <strong id="ruleset-version">{{rulesetVersion}}</strong>;
    entries and exits over the last {{days}} days.</p>{{> driftAlerts}}
    {{#stages}}<h2>Stage {{stage}}</h2><div class="scroll"><table><tr><th>Segment</th><th>Owner</th><th class="num">Size</th>
    <th>Size, {{days}} days</th><th class="num">Entries</th><th class="num">Exits</th><th class="num">Goal conversion</th></tr>
    {{#segments}}<tr><td><a href="/dashboard/segments/{{name}}">{{name}}</a></td><td>{{owner}}</td><td class="num">{{size}}</td>
    <td>{{{chart}}}</td><td class="num">{{entries}}</td><td class="num">{{exits}}</td><td class="num">{{conversion}}</td></tr>{{/segments}}
    </table></div>{{/stages}}
    {{#funnel}}{{> stageFunnel}}{{/funnel}}
    <h2>Queues</h2><div class="scroll"><table><tr><th>Queue</th><th class="num">Open</th><th class="num">Claimed</th>
    <th class="num">SLA breached, open</th><th class="num">Median s to claim</th></tr>
    {{#queues}}<tr><td>{{name}}</td><td class="num">{{open}}</td><td class="num">{{claimed}}</td><td class="num">{{breached}}</td>
    <td class="num">{{median}}</td></tr>{{/queues}}{{^queues}}<tr><td colspan="5">No queues.</td></tr>{{/queues}}</table></div>
    {{> foot}}
    """

    /// The overview's drift alerts (`DashboardDriftPanel`): what drifted and whose segments read it.
    static let driftAlerts = """
    <h2>Drift alerts</h2><p>As of {{driftAt}}; the same report as <code>GET /v1/drift</code>.</p>
    <div class="scroll"><table id="drift-alerts"><tr><th>Alert</th><th>Subject</th><th>What happened</th><th>Segments affected</th><th>Owners</th></tr>
    {{#driftAlerts}}<tr class="drift-alert"><td>{{kind}}</td><td><code>{{subject}}</code></td><td>{{detail}}</td>
    <td>{{#segments}}<a href="/dashboard/segments/{{name}}">{{name}}</a> {{/segments}}</td><td>{{owners}}</td></tr>{{/driftAlerts}}
    {{^driftAlerts}}<tr><td colspan="5">No drift alerts.</td></tr>{{/driftAlerts}}</table></div>
    """

    static let segment = """
    {{> head}}<h1>{{name}}</h1><div class="card"><p>{{description}}</p><p>Owner: {{owner}} · size {{size}}</p>
    <h3>Enter when</h3><pre>{{enter}}</pre>{{#exit}}<h3>Exit when</h3><pre>{{exit}}</pre>{{/exit}}
    {{#goal}}<h3>Goal</h3><pre>{{goal}}</pre>{{/goal}}</div>
    <h2>Size, daily, last {{days}} days</h2><div class="card">{{{chart}}}</div>
    <div class="scroll"><table><tr><th>Day</th><th class="num">Size</th><th class="num">Entries</th><th class="num">Exits</th></tr>
    {{#steps}}<tr><td>{{day}}</td><td class="num">{{size}}</td><td class="num">{{entries}}</td><td class="num">{{exits}}</td></tr>{{/steps}}
    </table></div>
    <h2 id="recent-changes-heading">Recent entries and exits</h2><p>The newest {{changeLimit}}, each with the event and decision that made it and the rule's explanation.</p>
    <div class="scroll"><table id="recent-changes"><tr><th>When</th><th>Lead</th><th>Change</th><th>Caused by</th><th>Why</th></tr>
    {{#changes}}<tr class="change"><td>{{at}}</td><td><a href="/dashboard/leads?q={{lead}}">{{lead}}</a></td><td>{{change}}</td>
    <td>{{cause}}{{#decisionRef}}<br>{{decisionRef}}{{/decisionRef}}</td>
    <td>{{summary}}<details><summary>explanation</summary><pre>{{reason}}</pre></details></td></tr>{{/changes}}
    {{^changes}}<tr><td colspan="5">No entries or exits yet.</td></tr>{{/changes}}</table></div>{{> foot}}
    """

    static let lead = """
    {{> head}}<h1>Lead lookup</h1><form method="get" action="/dashboard/leads"><input name="q" value="{{q}}"
    placeholder="email, user id or lead id" aria-label="lead"> <button>Find</button></form>
    {{#missing}}<p role="alert">No lead matches {{q}}.</p>{{/missing}}
    {{#lead}}<h2>Lead <code id="lead-id">{{id}}</code></h2><div class="card"><h3>Profile</h3><pre>{{profile}}</pre></div>{{/lead}}
    {{#hasCurrent}}<h2>Current segments</h2><table><tr><th>Segment</th><th>Since</th></tr>{{/hasCurrent}}
    {{#current}}<tr><td><a href="/dashboard/segments/{{segment}}">{{segment}}</a></td><td>{{since}}</td></tr>{{/current}}
    {{#hasCurrent}}</table>{{/hasCurrent}}
    {{#hasTimeline}}<h2 id="timeline-heading">Timeline, newest first</h2><p>Events, entries and exits and decisions: {{limits}}.</p>{{/hasTimeline}}
    {{#timeline}}<div class="card timeline {{kind}}"><h3>{{at}} · {{title}}</h3>{{#summary}}<p>{{summary}}</p>{{/summary}}
    <details><summary>{{details}}</summary><pre>{{document}}</pre></details></div>{{/timeline}}
    {{> foot}}
    """

    /// All templates, parsed once; a template that fails to parse is a programming error.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [("head", head), ("foot", foot), ("login", login), ("overview", overview), ("driftAlerts", driftAlerts), ("segment", segment), ("lead", lead),
                           ("stageFunnel", DashboardStageFunnel.template)] {
            try! library.register(text, named: name)
        }
        return library
    }()
}
