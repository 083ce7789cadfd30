package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

// Read returns the estimate of a JSON plan (`plan --format json`): the one
// it carries under "cost", or, for a plan made without --cost (a base
// branch older than this package), one computed from its resources. Empty
// input is no plan at all, and a nil estimate.
func Read(data []byte) (*Estimate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var doc struct {
		plan.Result
		Cost *Estimate `json:"cost"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON plan: %w", err)
	}
	if doc.Cost != nil {
		return doc.Cost, nil
	}
	if len(doc.Resources) == 0 {
		return nil, errors.New("not a JSON plan: no resources")
	}
	return Of(&doc.Result)
}

// WithTenantPlan returns a copy of a stack file with one tenant moved to
// another plan: what the plan of the copy costs, less what the original's
// does, is what the move costs.
func WithTenantPlan(sf *config.StackFile, project, id, planName string) (*config.StackFile, error) {
	key := project + ":" + config.KeyTenants
	raw, ok := sf.Values[key]
	if !ok {
		return nil, fmt.Errorf("the stack file has no %s", key)
	}
	var tenants []map[string]any
	if err := json.Unmarshal([]byte(raw), &tenants); err != nil {
		return nil, fmt.Errorf("%s is not a list of tenants: %w", key, err)
	}
	found := false
	for _, t := range tenants {
		if t["id"] == id {
			t["plan"] = planName
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("no tenant %q in %s", id, key)
	}
	moved, err := json.Marshal(tenants)
	if err != nil {
		return nil, err
	}
	out := &config.StackFile{Values: maps.Clone(sf.Values), SecretKeys: sf.SecretKeys}
	out.Values[key] = string(moved)
	return out, nil
}

// DiffMain is the costdiff command. With two JSON plans it prints, as
// Markdown, how the monthly cost changes from the first to the second; with
// --stack and --tenant id=plan it plans the stack file twice, as it is and
// with the tenant moved, and prints what the move costs. It returns the
// exit status: 0 done, 1 a plan failed, 2 bad usage or unreadable input.
func DiffMain(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("costdiff", flag.ContinueOnError)
	flags.SetOutput(stderr)
	title := flags.String("title", "", "heading of the difference (default: the stack)")
	stack := flags.String("stack", "", "with --tenant: the stack whose file to plan")
	configFile := flags.String("config", "", "with --tenant: stack file to read instead of Pulumi.<stack>.yaml")
	projectDir := flags.String("project", ".", "with --tenant: directory holding Pulumi.yaml")
	tenant := flags.String("tenant", "", "id=plan: what moving that tenant to that plan costs")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: costdiff [--title T] BEFORE.json AFTER.json")
		fmt.Fprintln(stderr, "       costdiff --stack S --tenant ID=PLAN [--config F] [--project DIR]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}

	var before, after *Estimate
	heading := *title
	switch {
	case *tenant != "" && *stack != "" && flags.NArg() == 0:
		id, planName, ok := strings.Cut(*tenant, "=")
		if !ok || id == "" || planName == "" {
			fmt.Fprintf(stderr, "costdiff: --tenant %q: use id=plan\n", *tenant)
			return 2
		}
		var code int
		if before, after, code = moveTenant(*projectDir, *configFile, *stack, id, planName, stderr); code != 0 {
			return code
		}
		if heading == "" {
			heading = fmt.Sprintf("%s: %s to %s", *stack, id, planName)
		}
	case *tenant == "" && flags.NArg() == 2:
		var err error
		if before, err = readFile(flags.Arg(0)); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		if after, err = readFile(flags.Arg(1)); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		if after == nil {
			fmt.Fprintf(stderr, "costdiff: %s is empty\n", flags.Arg(1))
			return 2
		}
		if heading == "" {
			heading = "Monthly cost"
		}
		if before == nil {
			heading += " (no plan of the base branch)"
		}
	default:
		flags.Usage()
		return 2
	}
	if err := Compare(before, after).WriteMarkdown(stdout, heading); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func readFile(path string) (*Estimate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("costdiff: %w", err)
	}
	est, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("costdiff: %s: %w", path, err)
	}
	return est, nil
}

// moveTenant plans a stack file as it is and with one tenant moved.
func moveTenant(projectDir, file, stack, id, planName string, stderr io.Writer) (before, after *Estimate, code int) {
	if file == "" {
		file = filepath.Join(projectDir, "Pulumi."+stack+".yaml")
	}
	project, err := plan.ProjectName(projectDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, 2
	}
	sf, err := config.ReadStackFile(file, project)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, 2
	}
	if sf.Values[config.KeyRegion] == "" && config.RegionFromEnvironment() == "" {
		sf.Values[config.KeyRegion] = plan.DefaultRegion
	}
	moved, err := WithTenantPlan(sf, project, id, planName)
	if err != nil {
		fmt.Fprintf(stderr, "costdiff: %v\n", err)
		return nil, nil, 2
	}
	estimate := func(values *config.StackFile) (*Estimate, error) {
		result, err := plan.Run(project, stack, values, nil)
		if err != nil {
			return nil, err
		}
		return Of(result)
	}
	if before, err = estimate(sf); err == nil {
		after, err = estimate(moved)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, 1
	}
	return before, after, 0
}
