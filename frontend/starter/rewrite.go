package starter

import (
	"regexp"
	"slices"
	"strings"
)

// productName lists the phrases in which users see the product's name —
// Duplex in this checkout, the README's title — and the command's name:
// in a new app they say the app's name instead. {name} stands for the
// product's name, {cmd} for the command's (the module path's last
// element). The tests that check a phrase spell it the same way, so they
// change with it.
var productName = []string{
	"# {name}\n",                        // the README's title
	"Build builds and serves {name}",    // build.go's doc
	"Command {cmd} serves {name}",       // the command's doc
	`"{name} is serving"`,               // the command's log line
	" · {name}</title>",                 // every page's title (server/web/layout.templ)
	`class="brand" href="/">{name}</a>`, // the header's brand
	`"{name} demos · {name}"`,           // the index's title, as a browser test reads it
	`"{name} demos"`,                    // the index's title (server/web/site.go)
}

// A renamer rewrites the text of a checkout for a new module path and
// name.
type renamer struct {
	phrases *strings.Replacer
	paths   []pathRule
	gomod   *regexp.Regexp
	module  string
}

type pathRule struct {
	re   *regexp.Regexp
	repl string
}

// newRenamer returns a renamer from module path oldModule, whose product
// is named oldProduct, to newModule, named name.
func newRenamer(oldModule, oldProduct, newModule, name string) *renamer {
	oldCmd := appName(oldModule)
	var pairs []string
	for _, p := range productName {
		pairs = append(pairs,
			strings.NewReplacer("{name}", oldProduct, "{cmd}", oldCmd).Replace(p),
			strings.NewReplacer("{name}", name, "{cmd}", name).Replace(p))
	}
	q := regexp.QuoteMeta
	return &renamer{
		phrases: strings.NewReplacer(pairs...),
		paths: []pathRule{
			// The command's folder and its binary.
			{regexp.MustCompile(`(^|[^\w.-])(server/cmd|bin)/` + q(oldCmd) + `($|[^\w.-])`), "${1}${2}/" + name + "${3}"},
			// Import paths, in code and prose.
			{regexp.MustCompile(`(^|[^\w./-])` + q(oldModule) + `/`), "${1}" + newModule + "/"},
			// The metrics' names: duplex_websocket_open.
			{regexp.MustCompile(`(^|[^\w])` + q(metricName(oldCmd)) + `_`), "${1}" + metricName(name) + "_"},
		},
		// go.mod's module, require and replace lines name the module alone.
		gomod:  regexp.MustCompile(`(?m)(^|[\s(])` + q(oldModule) + `(\s|$)`),
		module: newModule,
	}
}

// text rewrites the text of the file named name.
func (r *renamer) text(name, s string) string {
	s = r.phrases.Replace(s)
	for _, p := range r.paths {
		// Twice: a match consumes the character before the next one.
		s = p.re.ReplaceAllString(p.re.ReplaceAllString(s, p.repl), p.repl)
	}
	if name == "go.mod" || strings.HasSuffix(name, "/go.mod") {
		s = r.gomod.ReplaceAllString(s, "${1}"+r.module+"${2}")
	}
	return s
}

// metricName returns name as Prometheus allows a metric's name to start:
// letters, digits and underscores, not a digit first.
func metricName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 0 && '0' <= b[0] && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

// dropLines removes the lines that name one of the folders as a package
// of the module ("./shared/lab"), as the Taskfile's fuzz targets do. A
// YAML list item goes whole: its "- " line and the deeper-indented lines
// under it (a "for:" and its "cmd:").
func dropLines(s string, folders []string) string {
	lines := slices.Collect(strings.Lines(s))
	var b strings.Builder
	for i := 0; i < len(lines); {
		end := i + 1
		trimmed := strings.TrimLeft(lines[i], " ")
		if indent := len(lines[i]) - len(trimmed); strings.HasPrefix(trimmed, "- ") {
			for end < len(lines) && len(lines[end])-len(strings.TrimLeft(lines[end], " ")) > indent && strings.TrimSpace(lines[end]) != "" {
				end++
			}
		}
		if !slices.ContainsFunc(lines[i:end], func(line string) bool { return namesFolder(line, folders) }) {
			for _, line := range lines[i:end] {
				b.WriteString(line)
			}
		}
		i = end
	}
	return b.String()
}

func namesFolder(line string, folders []string) bool {
	for _, f := range folders {
		for i := 0; ; {
			j := strings.Index(line[i:], "./"+f)
			if j < 0 {
				break
			}
			end := i + j + 2 + len(f)
			if end == len(line) || !pathRune(rune(line[end])) {
				return true
			}
			i = end
		}
	}
	return false
}

// productOf returns the product's name: the README's title.
func productOf(readme string) string {
	first, _, _ := strings.Cut(readme, "\n")
	if name, ok := strings.CutPrefix(first, "# "); ok {
		return strings.TrimSpace(name)
	}
	return ""
}
