package plan

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/saas-platform/saas-platform/components/data"
	"github.com/saas-platform/saas-platform/config"
)

// CostReport is a plan's cost estimate: under "cost" in the JSON plan,
// written after the table otherwise.
type CostReport interface {
	WriteTable(w io.Writer) error
}

// Coster prices a plan for --cost. cmd/plan passes the cost package's: cost
// imports plan, so plan cannot import cost.
type Coster func(*Result) (CostReport, error)

// Main is the offline plan command: it parses args, runs the program on the
// stack file and writes the plan to stdout. It returns the exit status: 0
// planned, 1 invalid config or failed run (message on stderr, nothing on
// stdout), 2 bad usage or missing file.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainWithCost(args, stdout, stderr, nil)
}

// MainWithCost is Main with --cost priced by coster.
func MainWithCost(args []string, stdout, stderr io.Writer, coster Coster) int {
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "", "stack name (required); reads Pulumi.<stack>.yaml unless --config is given")
	configFile := flags.String("config", "", "stack file to read instead of Pulumi.<stack>.yaml")
	projectDir := flags.String("project", ".", "directory holding Pulumi.yaml")
	format := flags.String("format", "table", "output format: table or json")
	previousFile := flags.String("previous", "", "outputs of the last deployment (pulumi stack output --json, or a JSON plan) to check plan changes against")
	reachability := flags.Bool("reachability", false, "print every network flow the plan's resources allow (from, to, protocol, port) instead of the resources")
	withCost := flags.Bool("cost", false, "estimate the monthly cost (USD, on-demand list prices) after the plan, or under \"cost\" in JSON")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *withCost && coster == nil {
		fmt.Fprintln(stderr, "plan: --cost needs a cost estimator: run cmd/plan")
		return 2
	}
	if *stack == "" {
		fmt.Fprintln(stderr, "plan: --stack is required")
		return 2
	}
	if err := config.CheckStackName(*stack); err != nil {
		fmt.Fprintf(stderr, "plan: --stack %q %v\n", *stack, err)
		return 2
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "plan: --format %q: use table or json\n", *format)
		return 2
	}
	file := *configFile
	if file == "" {
		file = filepath.Join(*projectDir, "Pulumi."+*stack+".yaml")
	}

	project, err := ProjectName(*projectDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	// The program builds the pool tenants' function from the repository
	// --project names, wherever the command runs, and says so: the first
	// build takes minutes.
	root, err := filepath.Abs(*projectDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	data.ConfigureProvisionerBuild(data.ProvisionerBuild{ModuleDir: root, Progress: prefixed{"plan: ", stderr}})
	sf, err := config.ReadStackFile(file, project)
	var invalid *config.Error
	if errors.As(err, &invalid) {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if sf.Values[config.KeyRegion] == "" && config.RegionFromEnvironment() == "" {
		fmt.Fprintf(stderr, "plan: %s sets no aws:region and AWS_REGION is unset: planning for %s\n", file, DefaultRegion)
		sf.Values[config.KeyRegion] = DefaultRegion
	}
	var previous map[string]any
	if *previousFile != "" {
		if previous, err = ReadPrevious(*previousFile); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	result, err := Run(project, *stack, sf, previous)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// What removing tenants does to their data, in the words the tenants
	// command uses; on stderr, so that stdout stays the plan.
	for _, notice := range RemovalNotices(project, *stack, sf, previous) {
		fmt.Fprintln(stderr, "plan: "+notice)
	}
	if *reachability {
		flows, err := AnalyzeReachability(result.Resources)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if *format == "json" {
			err = flows.WriteJSON(stdout)
		} else {
			err = flows.WriteTable(stdout)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	var report CostReport
	if *withCost {
		if report, err = coster(result); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	if *format == "json" {
		err = result.writeJSON(stdout, report)
	} else if err = result.WriteTable(stdout); err == nil && report != nil {
		fmt.Fprintln(stdout)
		err = report.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// ReadPrevious reads stack outputs: either `pulumi stack output --json` or
// a JSON plan, whose "outputs" it takes.
func ReadPrevious(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading previous outputs: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %w", path, err)
	}
	if outputs, ok := doc["outputs"].(map[string]any); ok {
		if _, isPlan := doc["resources"]; isPlan {
			return outputs, nil
		}
	}
	return doc, nil
}

// prefixed writes each message with a prefix, so that the plan's notices on
// stderr read as the plan's.
type prefixed struct {
	prefix string
	w      io.Writer
}

func (p prefixed) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}
