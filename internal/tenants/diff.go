package tenants

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/saas-platform/saas-platform/internal/plan"
)

// What a change does to a resource.
const (
	Create  = "create"
	Replace = "replace"
	Update  = "update"
	Delete  = "delete"
)

// Change is what a stack file change does to one resource.
type Change struct {
	Action string
	Type   string
	Name   string
	URN    string
	// Inputs are the inputs that change (update, replace).
	Inputs []string
	// Note says what a protected or retained resource's deletion means.
	Note string
}

// replaceOn are, for the types a tenant change touches, the inputs the
// pinned provider cannot change in place: a change to any of them
// replaces the resource. Others update in place.
var replaceOn = map[string][]string{
	"aws:rds/instance:Instance":              {"identifier", "dbName", "engine", "kmsKeyId", "storageEncrypted", "username", "availabilityZone"},
	"aws:secretsmanager/secret:Secret":       {"name"},
	"aws:ssm/parameter:Parameter":            {"name"},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {"name"},
	"aws:cloudwatch/logGroup:LogGroup":       {"name"},
	"aws:lambda/invocation:Invocation":       {"functionName"},
	// Every argument of a backup selection forces a new one.
	"aws:backup/selection:Selection": {"name", "planId", "iamRoleArn", "resources"},
}

// Diff compares two plans of a stack by URN.
func Diff(before, after *plan.Result) []Change {
	old := map[string]plan.Resource{}
	for _, r := range before.Resources {
		old[r.URN] = r
	}
	var changes []Change
	for _, r := range after.Resources {
		prev, ok := old[r.URN]
		delete(old, r.URN)
		if !ok {
			changes = append(changes, Change{Action: Create, Type: r.Type, Name: r.Name, URN: r.URN, Note: guards(r)})
			continue
		}
		inputs := changedInputs(prev, r)
		if len(inputs) == 0 {
			continue
		}
		action := Update
		for _, in := range inputs {
			if slices.Contains(replaceOn[r.Type], in) {
				action = Replace
			}
		}
		changes = append(changes, Change{Action: action, Type: r.Type, Name: r.Name, URN: r.URN, Inputs: inputs})
	}
	for _, r := range old {
		c := Change{Action: Delete, Type: r.Type, Name: r.Name, URN: r.URN}
		switch {
		case r.Options.Protect:
			c.Note = "protected: pulumi up stops here until it is unprotected"
		case r.Options.RetainOnDelete:
			c.Note = "retained: leaves the stack, stays in AWS"
		}
		changes = append(changes, c)
	}
	order := map[string]int{Create: 0, Replace: 1, Update: 2, Delete: 3}
	sort.Slice(changes, func(i, j int) bool {
		a, b := changes[i], changes[j]
		if order[a.Action] != order[b.Action] {
			return order[a.Action] < order[b.Action]
		}
		return a.URN < b.URN
	})
	return changes
}

// guards says how a resource is kept from accidental deletion.
func guards(r plan.Resource) string {
	var g []string
	if r.Options.Protect {
		g = append(g, "protect")
	}
	if r.Options.RetainOnDelete {
		g = append(g, "retainOnDelete")
	}
	if len(g) == 0 {
		return ""
	}
	return "[" + strings.Join(g, ", ") + "]"
}

// changedInputs lists the inputs, and the options that protect data, that
// differ; inputs the program leaves to AWS (ignoreChanges) do not count.
func changedInputs(before, after plan.Resource) []string {
	keys := map[string]bool{}
	for k := range before.Inputs {
		keys[k] = true
	}
	for k := range after.Inputs {
		keys[k] = true
	}
	var changed []string
	for k := range keys {
		if slices.Contains(after.Options.IgnoreChanges, k) {
			continue
		}
		if !reflect.DeepEqual(before.Inputs[k], after.Inputs[k]) {
			changed = append(changed, k)
		}
	}
	if before.Options.Protect != after.Options.Protect {
		changed = append(changed, fmt.Sprintf("[protect: %t]", after.Options.Protect))
	}
	if before.Options.RetainOnDelete != after.Options.RetainOnDelete {
		changed = append(changed, fmt.Sprintf("[retainOnDelete: %t]", after.Options.RetainOnDelete))
	}
	sort.Strings(changed)
	return changed
}

func newTable(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
}

var symbols = map[string]string{Create: "+", Replace: "+-", Update: "~", Delete: "-"}

func writeChanges(out io.Writer, changes []Change) {
	fmt.Fprintln(out, "What it does (offline plans of the stack file before and after):")
	w := newTable(out)
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.Action]++
		detail := c.Note
		if len(c.Inputs) > 0 {
			detail = strings.Join(c.Inputs, ", ")
		}
		fmt.Fprintf(w, "  %s %s\t%s\t%s\t%s\n", symbols[c.Action], c.Action, c.Type, c.Name, detail)
	}
	w.Flush()
	fmt.Fprintf(out, "  %d to create, %d to replace, %d to update, %d to delete\n",
		counts[Create], counts[Replace], counts[Update], counts[Delete])
}
