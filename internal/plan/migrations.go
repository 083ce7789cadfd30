package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/saas-platform/saas-platform/internal/migrations"
)

// invocationType is the resource that runs a service's migrations.
const invocationType = "aws:lambda/invocation:Invocation"

// Migration is one service's migrations as the plan registers them: the
// runner's input, read back from the invocation.
type Migration struct {
	Invocation string // the invocation's URN
	Request    migrations.Request
}

// Migrations reads every migrations invocation of a plan (those whose input
// is the runner's request), sorted by service: which tenants each
// service's migrate command runs for, with what task, in which network.
func Migrations(resources []Resource) ([]Migration, error) {
	var out []Migration
	for _, r := range OfType(resources, invocationType) {
		input := r.String("input")
		var probe struct {
			TaskDefinition *string `json:"taskDefinition"`
		}
		if err := json.Unmarshal([]byte(input), &probe); err != nil || probe.TaskDefinition == nil {
			continue // a tenant's or a login's provisioning
		}
		var req migrations.Request
		if err := json.Unmarshal([]byte(input), &req); err != nil {
			return nil, fmt.Errorf("%s: the migrations input does not read back: %w", r.Name, err)
		}
		out = append(out, Migration{Invocation: r.URN, Request: req})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Request.Service < out[j].Request.Service })
	return out, nil
}

// writeMigrations lists, per service and tenant, the migration the
// deployment runs before the service rolls out.
func writeMigrations(w io.Writer, ms []Migration) error {
	if len(ms) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nMigrations: `pulumi up` runs each command as a task of its service, once per tenant, before the service rolls out;")
	fmt.Fprintln(w, "an update that only adds tenants runs it for those alone.")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tTENANT\tCOMMAND\tCREDENTIALS (TENANT_SECRET_ID)")
	for _, m := range ms {
		command := strings.Join(m.Request.Command, " ")
		if len(m.Request.Tenants) == 0 {
			fmt.Fprintf(tw, "%s\t(no tenant yet)\t%s\t-\n", m.Request.Service, command)
		}
		for _, t := range m.Request.Tenants {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Request.Service, t.ID, command, t.SecretID)
		}
	}
	return tw.Flush()
}
