package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the plan as JSON: the stack, every resource with its
// inputs as the engine sees them (camelCase, secrets as "[secret]"), and the
// stack outputs.
func (r *Result) WriteJSON(w io.Writer) error {
	return r.writeJSON(w, nil)
}

// writeJSON writes the plan with the cost estimate, if any, as one more
// top-level key: the rest of the document stays as WriteJSON writes it.
func (r *Result) writeJSON(w io.Writer, cost CostReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if cost == nil {
		return enc.Encode(r)
	}
	return enc.Encode(struct {
		*Result
		Cost CostReport `json:"cost"`
	}{r, cost})
}

// WriteTable writes the plan for people: one line per resource with its
// type, name, parent and key inputs, then a count per type.
func (r *Result) WriteTable(w io.Writer) error {
	names := map[string]string{}
	for _, res := range r.Resources {
		short := res.Type[strings.LastIndex(res.Type, ":")+1:]
		names[res.URN] = short + " " + res.Name
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tNAME\tPARENT\tKEY INPUTS")
	counts := map[string]int{}
	for _, res := range r.Resources {
		counts[res.Type]++
		parent := names[res.Parent]
		if parent == "" {
			parent = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Type, res.Name, parent, keyInputs(res))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	fmt.Fprintf(w, "\n%d resources in stack %s:\n", len(r.Resources), r.Stack)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range types {
		fmt.Fprintf(tw, "  %s\t%d\n", t, counts[t])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ms, err := Migrations(r.Resources)
	if err != nil {
		return err
	}
	return writeMigrations(w, ms)
}

// keyInputs summarises a resource's inputs on one line: scalars and short
// lists, tags and long documents left out.
func keyInputs(res Resource) string {
	keys := make([]string, 0, len(res.Inputs))
	for k := range res.Inputs {
		if k == "tags" || k == "tagsAll" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		b, err := json.Marshal(res.Inputs[k])
		if err != nil {
			continue
		}
		v := strings.Trim(string(b), `"`)
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		parts = append(parts, k+"="+v)
	}
	if res.Options.Protect {
		parts = append(parts, "[protect]")
	}
	if res.Options.RetainOnDelete {
		parts = append(parts, "[retainOnDelete]")
	}
	line := strings.Join(parts, " ")
	if len(line) > 160 {
		line = line[:157] + "..."
	}
	return line
}
