import Mustache

/// The console's pages as Mustache templates (swift-mustache), compiled once. `{{x}}`
/// HTML-escapes every value, so a DMS value such as `<script>` shows as text; the one
/// unescaped insertion, `{{{chart}}}`, is SVG built by `SVGChart` from numbers and escaped
/// labels. Kept in Swift so the binary needs no template files at run time.
enum ConsoleTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [
            ("head", head), ("foot", foot), ("login", login), ("fleet", fleet), ("dealer", dealer), ("customers", customers),
            ("customer", customer), ("problem", problem),
        ] {
            // The templates are constants of this file: a parse error is a programming error.
            try! library.register(text, named: name)
        }
        return library
    }()

    static func render(_ page: String, _ model: Any) -> String { library.render(model, withTemplate: page) ?? "" }

    static let head = """
        <!doctype html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{#page}}{{title}}{{/page}} · dealersync HQ</title>
        <link rel="stylesheet" href="/console/static/console.css">
        <script src="/console/static/console.js" defer></script>
        </head>
        <body>
        {{#page}}{{#signedIn}}
        <header>
          <span class="brand">dealersync HQ</span>
          <nav aria-label="Main"><a href="/console">Fleet</a><a href="/console/customers">Customers</a></nav>
          <span class="muted">{{principal}} · times in <span id="zone">UTC</span></span>
          <form class="inline" method="post" action="/console/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button class="quiet" type="submit">Sign out</button></form>
        </header>
        {{/signedIn}}{{/page}}
        <main>
        """

    static let foot = """
        </main>
        </body>
        </html>
        """

    static let login = """
        {{>head}}
        <div class="login">
          <h1>Sign in to dealersync HQ</h1>
          {{#error}}<p class="notice error" role="alert">{{error}}</p>{{/error}}
          <form method="post" action="/console/login">
            <input type="hidden" name="csrf" value="{{loginCSRF}}">
            <label>Reader token<input type="password" name="token" autocomplete="off" required autofocus></label>
            <p class="muted">A token from <code>dealersync hq add-reader NAME</code>. It is sent once; the browser keeps only a session cookie.</p>
            <button type="submit">Sign in</button>
          </form>
        </div>
        {{>foot}}
        """

    static let fleet = """
        {{>head}}
        <h1>Fleet · {{dealerCount}} dealers</h1>
        <div class="cards">
          {{#cards}}<div class="card">{{label}}<b class="{{cls}}">{{value}}</b></div>{{/cards}}
        </div>
        <form class="filters" method="get" action="/console">
          <label>Search<input id="quick-filter" name="q" value="{{q}}" placeholder="dealer id or name"></label>
          <label>State<select name="state">{{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/states}}</select></label>
          <input type="hidden" name="sort" value="{{sort}}"><input type="hidden" name="dir" value="{{dir}}">
          <button type="submit">Filter</button>
        </form>
        <div class="scroll">
        <table id="fleet">
          <thead><tr>{{#columns}}<th class="{{cls}}" scope="col"{{#current}} aria-sort="{{current}}"{{/current}}><a href="{{href}}">{{label}}{{arrow}}</a></th>{{/columns}}</tr></thead>
          <tbody>
          {{#dealers}}<tr><td><a href="/console/dealers/{{id}}">{{id}}</a></td><td>{{name}}</td><td class="{{stateClass}}">{{state}}</td><td>{{#lastSeen}}<time datetime="{{lastSeen}}">{{lastSeenText}}</time>{{/lastSeen}}{{^lastSeen}}never{{/lastSeen}}</td><td class="num">{{backlog}}</td><td class="num">{{pushRate}}</td><td class="num">{{clockSkew}}</td><td>{{capture}}</td><td class="num">{{deadLetters}}</td><td class="num">{{conflicts}}</td><td class="num hide-narrow">{{held}}</td><td class="num">{{quality}}</td></tr>
          {{/dealers}}
          </tbody>
        </table>
        </div>
        <p class="muted">{{shown}} of {{dealerCount}} dealers shown. Push rate: rows in the last hour. Held rows: rows from HQ waiting at the store (its DMS refused them, or their table is missing); "—" for an agent too old to report. Silent: not seen for {{silentMinutes}} minutes.</p>
        {{>foot}}
        """

    static let dealer = """
        {{>head}}
        <p><a href="/console">← Fleet</a></p>
        <h1>{{id}} {{name}} · <span class="{{stateClass}}">{{state}}</span></h1>
        <div class="cards">
          {{#cards}}<div class="card">{{label}}<b class="{{cls}}">{{value}}</b></div>{{/cards}}
        </div>
        <h2>Backlog over time</h2>
        {{{backlogChart}}}
        <h2>Rows pushed over time</h2>
        {{{pushChart}}}
        <h2>Recent batches</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Batch</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Bytes</th><th scope="col">Received</th></tr></thead><tbody>
        {{#batches}}<tr><td>{{id}}</td><td class="num">{{rows}}</td><td class="num">{{bytes}}</td><td><time datetime="{{at}}">{{atText}}</time></td></tr>{{/batches}}
        {{^batches}}<tr><td colspan="4" class="muted">no batches yet</td></tr>{{/batches}}
        </tbody></table></div>
        <h2>Dead letters</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Batch</th><th scope="col" class="num">Row</th><th scope="col">Table</th><th scope="col">Reason</th><th scope="col">When</th></tr></thead><tbody>
        {{#deadLetters}}<tr><td>{{batch}}</td><td class="num">{{row}}</td><td>{{table}}</td><td class="wrap">{{reason}}</td><td><time datetime="{{at}}">{{atText}}</time></td></tr>{{/deadLetters}}
        {{^deadLetters}}<tr><td colspan="5" class="muted">none</td></tr>{{/deadLetters}}
        </tbody></table></div>
        <h2>Conflicts</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Table.column</th><th scope="col">Why</th><th scope="col">Won</th><th scope="col">Winning value</th><th scope="col">Lost</th><th scope="col">Losing values</th><th scope="col">When</th></tr></thead><tbody>
        {{#conflicts}}<tr><td>{{where}}</td><td class="wrap">{{reason}}</td><td>{{winner}}</td><td class="wrap">{{winningValue}}</td><td>{{losers}}</td><td class="wrap">{{losingValues}}</td><td><time datetime="{{at}}">{{atText}}</time></td></tr>{{/conflicts}}
        {{^conflicts}}<tr><td colspan="7" class="muted">none</td></tr>{{/conflicts}}
        </tbody></table></div>
        <p class="muted">Values of personal columns are masked.</p>
        <h2>Data quality · {{qualityScore}}</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Table</th><th scope="col">Key</th><th scope="col">Column</th><th scope="col">To correct</th></tr></thead><tbody>
        {{#issues}}<tr><td>{{table}}</td><td>{{key}}</td><td>{{column}}</td><td class="wrap">{{hint}}</td></tr>{{/issues}}
        {{^issues}}<tr><td colspan="4" class="muted">no records to fix</td></tr>{{/issues}}
        </tbody></table></div>
        {{>foot}}
        """

    static let customers = """
        {{>head}}
        <h1>Customers</h1>
        {{#error}}<p class="notice error" role="alert">{{error}}</p>{{/error}}
        <form class="filters" method="post" action="/console/customers">
          <input type="hidden" name="csrf" value="{{#page}}{{csrf}}{{/page}}">
          <label>Find by<select name="kind"><option value="mobile">Mobile</option><option value="id_number">ID number</option><option value="vin">VIN</option></select></label>
          <label>Value<input name="value" autocomplete="off" required></label>
          <button type="submit">Find</button>
        </form>
        <p class="muted">Searches are sent in the form body, never in the address; each is recorded.</p>
        {{#searched}}
        <div class="scroll"><table><thead><tr><th scope="col">Customer</th><th scope="col">Name</th><th scope="col">Stores</th><th scope="col">Responsible store</th></tr></thead><tbody>
        {{#results}}<tr><td><a href="/console/customers/{{id}}">{{id}}</a></td><td>{{name}}</td><td>{{stores}}</td><td>{{responsible}}</td></tr>{{/results}}
        {{^results}}<tr><td colspan="4" class="muted">no customer found</td></tr>{{/results}}
        </tbody></table></div>
        {{/searched}}
        {{>foot}}
        """

    static let customer = """
        {{>head}}
        <p><a href="/console/customers">← Customers</a></p>
        <h1>{{id}} · {{name}}</h1>
        {{#masked}}
        <form method="post" action="/console/customers/{{id}}/reveal"><input type="hidden" name="csrf" value="{{#page}}{{csrf}}{{/page}}">
        <p class="notice">Personal data is masked. <button type="submit">Reveal</button> (recorded with your name)</p></form>
        {{/masked}}
        {{^masked}}<p class="notice">Revealed: this view was recorded.</p>{{/masked}}
        <h2>Golden record · responsible store {{responsible}}</h2>
        <div class="scroll"><table><tbody>{{#golden}}<tr><th scope="row">{{column}}</th><td class="wrap">{{value}}</td></tr>{{/golden}}</tbody></table></div>
        {{#sections}}
        <h2>{{title}}</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Store</th><th scope="col">Key</th>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead><tbody>
        {{#rows}}<tr><td>{{dealer}}</td><td>{{key}}</td>{{#cells}}<td class="wrap">{{.}}</td>{{/cells}}</tr>{{/rows}}
        {{^rows}}<tr><td colspan="2" class="muted">none</td></tr>{{/rows}}
        </tbody></table></div>
        {{/sections}}
        <h2>Links</h2>
        <div class="scroll"><table><thead><tr><th scope="col">Record</th><th scope="col">Record</th><th scope="col">Rule</th><th scope="col" class="num">Confidence</th><th scope="col">Made by</th></tr></thead><tbody>
        {{#links}}<tr><td>{{a}}</td><td>{{b}}</td><td>{{rule}}</td><td class="num">{{confidence}}</td><td>{{madeBy}}</td></tr>{{/links}}
        {{^links}}<tr><td colspan="5" class="muted">one store record</td></tr>{{/links}}
        </tbody></table></div>
        {{>foot}}
        """

    static let problem = """
        {{>head}}
        <h1>{{heading}}</h1>
        <p class="notice error" role="alert">{{message}}</p>
        <p>{{hint}}</p>
        <p><a href="/console">Fleet</a> · <a href="/console/login">Sign in</a></p>
        {{>foot}}
        """
}
