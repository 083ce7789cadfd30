package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/saas-platform/saas-platform/internal/plan"
)

// The manual's stack-file snippets are planned, so that the documentation
// cannot drift from the code. A fenced block's info string says what it is:
//
//	```yaml                        a stack file (with config:) or a fragment
//	                               of one (saas-platform:* and aws:* keys)
//	```yaml saas-platform:services entries to append to that list
//	```yaml no-plan                not a stack file: skipped (keep these rare)
//
// A block of list entries is planned with the list entries shown before it
// under the same heading (an example's bucket, then the service that uses
// it). A complete stack file (config: with saas-platform:sizing) is planned as it
// stands; anything else is merged into Pulumi.dev.yaml, where the manual
// tells readers to paste it: maps are merged key by key (the snippet wins),
// lists are extended.

// snippet is one fenced yaml block of the manual.
type snippet struct {
	file string
	line int
	info string // the info string after "yaml"
	body string
	// section is the heading the block is under.
	section string
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

// manualFiles are the README and every docs/ file.
func manualFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../docs/*.md")
	require.NoError(t, err)
	require.NotEmpty(t, files, "the manual lives in docs/")
	return append([]string{"../README.md"}, files...)
}

var fence = regexp.MustCompile("^(\\s*)(```+)(.*)$")

// snippets returns the fenced blocks of a markdown file whose info string
// starts with yaml, dedented by their fence's indentation. A block of
// another kind that holds stack-file keys is returned with info "unmarked",
// so that the test can refuse it.
func snippets(t *testing.T, file string) []snippet {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var out []snippet
	section := ""
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "#") {
			section = lines[i]
		}
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		indent, ticks, info := m[1], m[2], strings.TrimSpace(m[3])
		var body []string
		j := i + 1
		for ; j < len(lines); j++ {
			if strings.TrimSpace(lines[j]) == ticks {
				break
			}
			body = append(body, strings.TrimPrefix(lines[j], indent))
		}
		require.Less(t, j, len(lines), "%s:%d: the fence is never closed", file, i+1)
		s := snippet{file: filepath.Base(file), line: i + 1, body: strings.Join(body, "\n") + "\n", section: section}
		switch {
		case info == "yaml" || strings.HasPrefix(info, "yaml "):
			s.info = strings.TrimSpace(strings.TrimPrefix(info, "yaml"))
			out = append(out, s)
		case looksLikeStackFile(body):
			s.info = "unmarked"
			out = append(out, s)
		}
		i = j
	}
	return out
}

// looksLikeStackFile is true for a block whose first line of content is a
// stack file's: config:, a namespaced key, or a service entry.
func looksLikeStackFile(body []string) bool {
	for _, l := range body {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		return l == "config:" || strings.HasPrefix(l, "saas-platform:") || strings.HasPrefix(l, "aws:") ||
			strings.HasPrefix(l, "- name:") || strings.HasPrefix(l, "- {id:")
	}
	return false
}

// stackFileOf turns a snippet into a stack file to plan; before are the
// list entries shown before it in its section, added first.
func stackFileOf(t *testing.T, s snippet, before ...snippet) map[string]any {
	t.Helper()
	var parsed any
	require.NoError(t, yaml.Unmarshal([]byte(s.body), &parsed), "%s is not YAML", s)

	if s.info != "" {
		require.True(t, strings.HasPrefix(s.info, "saas-platform:") || strings.HasPrefix(s.info, "aws:"),
			"%s: the info string %q is neither a stack-file key nor no-plan", s, s.info)
		items, ok := parsed.([]any)
		require.True(t, ok, "%s: a block marked %q holds entries of that list", s, s.info)
		parsed = map[string]any{s.info: items}
	}
	fragment, ok := parsed.(map[string]any)
	require.True(t, ok, "%s: a stack file or a fragment of one is a map of keys (mark a list with the key it extends)", s)
	if cfg, ok := fragment["config"].(map[string]any); ok {
		if _, complete := cfg["saas-platform:sizing"]; complete {
			return fragment
		}
		fragment = cfg
	}
	for key := range fragment {
		require.True(t, strings.HasPrefix(key, "saas-platform:") || strings.HasPrefix(key, "aws:"),
			"%s: %q is not a stack-file key", s, key)
	}

	data, err := os.ReadFile("../Pulumi.dev.yaml")
	require.NoError(t, err)
	var dev map[string]any
	require.NoError(t, yaml.Unmarshal(data, &dev))
	base := dev["config"].(map[string]any)
	for _, earlier := range before {
		var items []any
		require.NoError(t, yaml.Unmarshal([]byte(earlier.body), &items), "%s", earlier)
		base[earlier.info] = merged(base[earlier.info], items)
	}
	for key, value := range fragment {
		base[key] = merged(base[key], value)
	}
	return dev
}

// merged is what a snippet's value makes of the dev stack file's: lists are
// extended, maps merged key by key, anything else replaced.
func merged(existing, added any) any {
	switch a := added.(type) {
	case []any:
		if e, ok := existing.([]any); ok {
			return append(append([]any{}, e...), a...)
		}
	case map[string]any:
		if e, ok := existing.(map[string]any); ok {
			out := map[string]any{}
			for k, v := range e {
				out[k] = v
			}
			for k, v := range a {
				out[k] = merged(e[k], v)
			}
			return out
		}
	}
	return added
}

// planSnippet plans a snippet's stack file as the stack "snippet".
func planSnippet(t *testing.T, s snippet, before ...snippet) *plan.Result {
	t.Helper()
	out, err := yaml.Marshal(stackFileOf(t, s, before...))
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "Pulumi.snippet.yaml")
	require.NoError(t, os.WriteFile(file, out, 0o600))
	result, err := planFile(t, file, "snippet")
	require.NoError(t, err, "%s does not plan:\n%s", s, s.body)
	return result
}

func TestEveryStackFileSnippetOfTheManualPlans(t *testing.T) {
	var planned, skipped int
	for _, file := range manualFiles(t) {
		var entries []snippet // list entries shown so far in the current section
		for _, s := range snippets(t, file) {
			if len(entries) > 0 && entries[0].section != s.section {
				entries = nil
			}
			before := entries
			if strings.HasPrefix(s.info, "saas-platform:") || strings.HasPrefix(s.info, "aws:") {
				entries = append(entries, s)
			}
			t.Run(s.String(), func(t *testing.T) {
				require.NotEqual(t, "unmarked", s.info, "%s holds stack-file keys: fence it as ```yaml (or ```yaml no-plan, with a reason)", s)
				if s.info == "no-plan" {
					skipped++
					return
				}
				planned++
				assert.NotEmpty(t, planSnippet(t, s, before...).Resources)
			})
		}
	}
	assert.Positive(t, planned, "the manual's snippets are found")
	assert.LessOrEqual(t, skipped, 2, "snippets marked no-plan are rare: make them valid stack files instead")
}

// serviceExample is the worked example of docs/services.md, "Adding a
// service": its blocks, by the list they extend.
func serviceExample(t *testing.T) (services, buckets snippet) {
	t.Helper()
	all := snippets(t, "../docs/services.md")
	data, err := os.ReadFile("../docs/services.md")
	require.NoError(t, err)
	start := strings.Index(string(data), "\n## Adding a service\n")
	require.Positive(t, start)
	startLine := strings.Count(string(data)[:start], "\n") + 1
	for _, s := range all {
		if s.line < startLine {
			continue
		}
		switch s.info {
		case "saas-platform:services":
			if services.body == "" {
				services = s
			}
		case "saas-platform:buckets":
			if buckets.body == "" {
				buckets = s
			}
		}
	}
	require.NotEmpty(t, services.body, "Adding a service shows a saas-platform:services entry")
	require.NotEmpty(t, buckets.body, "Adding a service shows a saas-platform:buckets entry")
	return services, buckets
}

// planServiceExample plans the dev stack file with the example's bucket
// and service added, as the text says to add them.
func planServiceExample(t *testing.T) *plan.Result {
	t.Helper()
	services, buckets := serviceExample(t)
	out, err := yaml.Marshal(stackFileOf(t, services, buckets))
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "Pulumi.example.yaml")
	require.NoError(t, os.WriteFile(file, out, 0o600))
	result, err := planFile(t, file, "dev")
	require.NoError(t, err)
	return result
}

// The worked example of adding a service plans on the dev stack with what it
// promises: its secrets injected, its grants in its task role, and exactly
// the resources its table lists.
func TestTheServicesDocsExampleAddsWhatItsTableLists(t *testing.T) {
	result := planServiceExample(t)
	containers := tasks(t, result)["billing"]
	require.Len(t, containers, 2, "billing and its CloudWatch agent")
	_, ok := valueOf(containers[0], "WEBHOOK_SIGNING_KEY")
	assert.True(t, ok)
	policy := grantsOf(t, result, "billing-task")
	assert.Contains(t, policy, "sqs:SendMessage")
	assert.Contains(t, policy, `"ses:FromAddress":["billing@example.com"]`)

	added := addedTypes(planStack(t, "dev"), result)
	types := make([]string, 0, len(added))
	for typ := range added {
		types = append(types, typ)
	}
	sort.Strings(types)
	var rows strings.Builder
	for _, typ := range types {
		fmt.Fprintf(&rows, "| `%s` | %d | ... |\n", typ, added[typ])
	}
	assert.Equal(t, added, documentedAdditions(t),
		"docs/services.md's table of what the billing service adds is not the plan's; the plan adds:\n%s", rows.String())
}

// addedTypes counts, by type, the resources in after and not in before.
func addedTypes(before, after *plan.Result) map[string]int {
	had := map[string]bool{}
	for _, r := range before.Resources {
		had[r.URN] = true
	}
	out := map[string]int{}
	for _, r := range after.Resources {
		if !had[r.URN] {
			out[r.Type]++
		}
	}
	return out
}

var additionRow = regexp.MustCompile("^\\| `([a-zA-Z0-9:/_.-]+)` \\| (\\d+) \\|")

// documentedAdditions reads the table under "What the billing service adds"
// in docs/services.md: | `type` | count | what |.
func documentedAdditions(t *testing.T) map[string]int {
	t.Helper()
	data, err := os.ReadFile("../docs/services.md")
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "\n### What the billing service adds\n")
	require.Positive(t, start, "docs/services.md lists what the example adds")
	out := map[string]int{}
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if strings.HasPrefix(line, "#") {
			break
		}
		if m := additionRow.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			out[m[1]] += n
		}
	}
	return out
}

// The README is the front door: short, and pointing at every topic of the
// manual; each docs/ file opens with a contents list of its sections.
func TestTheREADMEIsAFrontDoorAndEveryDocsFileListsItsSections(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	assert.Less(t, strings.Count(string(readme), "\n"), 300, "the README stays under 300 lines: move the detail to docs/")
	files, err := filepath.Glob("../docs/*.md")
	require.NoError(t, err)
	for _, file := range files {
		name := "docs/" + filepath.Base(file)
		assert.Contains(t, string(readme), "("+name+")", "the README's table of topics links %s", name)

		data, err := os.ReadFile(file)
		require.NoError(t, err)
		text := string(data)
		start := strings.Index(text, "\nContents:\n")
		if !assert.Positive(t, start, "%s opens with a contents list (Contents:, then a link per ## section)", name) {
			continue
		}
		contents := text[start:]
		if end := strings.Index(contents[len("\nContents:\n\n"):], "\n\n"); end >= 0 {
			contents = contents[:len("\nContents:\n\n")+end]
		}
		inFence := false
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inFence = !inFence
			}
			if inFence || !strings.HasPrefix(line, "## ") {
				continue
			}
			heading := strings.TrimPrefix(line, "## ")
			assert.Contains(t, contents, "["+heading+"](#", "%s's contents list names its section %q: add - [%s](#%s)",
				name, heading, heading, anchor(heading))
		}
	}
}

// anchor is GitHub's anchor of a heading.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}
