package tenants

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const usage = `usage: tenants --stack STACK [flags] COMMAND

  add ID --plan PLAN        add a tenant
  set-plan ID PLAN          move a tenant to another plan
  remove ID [--drop-data]   remove a tenant; its data is kept unless --drop-data,
                            which takes two runs with a deployment between them
  list                      list the tenants (with --registry, the run-time ones too)
  promote ID                move a run-time tenant into the stack file (--registry);
                            run again after the deployment to hand its registry entry over

flags (anywhere on the line):
`

// Main is the tenants command. It returns the exit status: 0 done (or
// nothing to do), 1 refused (the message names the tenant) or failed, 2 bad
// usage or a missing file. cost, when not nil, prices each change.
func Main(args []string, stdout, stderr io.Writer, cost CostFunc) int {
	flags := flag.NewFlagSet("tenants", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(stderr, usage)
		flags.PrintDefaults()
	}
	stack := flags.String("stack", "", "stack name (required); edits Pulumi.<stack>.yaml unless --config is given")
	configFile := flags.String("config", "", "stack file to edit instead of Pulumi.<stack>.yaml")
	projectDir := flags.String("project", ".", "directory holding Pulumi.yaml")
	previousFile := flags.String("previous", "", "outputs of the last deployment (pulumi stack output --json, or a JSON plan) to check the change against")
	dryRun := flags.Bool("dry-run", false, "print what the change does, do not write the stack file")
	planName := flags.String("plan", "", "plan of the tenant (add, set-plan)")
	dropData := flags.Bool("drop-data", false, "remove: delete the tenant's data too, in two steps")
	registry := flags.Bool("registry", false, "list, promote, add: read the run-time tenants from the stack's registry table, with AWS credentials from the environment")

	words, err := parseInterleaved(flags, args)
	if err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "tenants: "+format+"\n", a...)
		return 2
	}
	if *stack == "" {
		return fail("--stack is required")
	}
	if err := config.CheckStackName(*stack); err != nil {
		return fail("--stack %q %v", *stack, err)
	}
	if len(words) == 0 {
		flags.Usage()
		return 2
	}
	file := *configFile
	if file == "" {
		file = filepath.Join(*projectDir, "Pulumi."+*stack+".yaml")
	}
	if _, err := os.Stat(file); err != nil {
		return fail("%v", err)
	}
	opts := Options{ProjectDir: *projectDir, File: file, Stack: *stack, DryRun: *dryRun, Cost: cost}
	if *registry {
		opts.Registry = OpenRegistry
	}
	if *previousFile != "" {
		if opts.Previous, err = plan.ReadPrevious(*previousFile); err != nil {
			return fail("%v", err)
		}
	}

	command, rest := words[0], words[1:]
	if *dropData && command != "remove" {
		return fail("--drop-data is for remove")
	}
	switch command {
	case "add":
		if len(rest) != 1 || *planName == "" {
			return fail("add takes a tenant id and --plan, such as: add acme --plan premium")
		}
		err = Add(opts, stdout, rest[0], *planName)
	case "set-plan":
		if len(rest) == 2 && *planName == "" {
			*planName, rest = rest[1], rest[:1]
		}
		if len(rest) != 1 || *planName == "" {
			return fail("set-plan takes a tenant id and a plan, such as: set-plan acme enterprise")
		}
		err = SetPlan(opts, stdout, rest[0], *planName)
	case "remove":
		if len(rest) != 1 || *planName != "" {
			return fail("remove takes a tenant id, such as: remove acme [--drop-data]")
		}
		err = Remove(opts, stdout, rest[0], *dropData)
	case "list":
		if len(rest) != 0 || *planName != "" {
			return fail("list takes no arguments")
		}
		err = List(opts, stdout)
	case "promote":
		if len(rest) != 1 || *planName != "" || !*registry {
			return fail("promote takes a run-time tenant's id and --registry, such as: promote hooli --registry")
		}
		err = Promote(opts, stdout, rest[0])
	default:
		return fail("unknown command %q: add, set-plan, remove, list or promote", command)
	}
	if err != nil {
		var refusal *Refusal
		if errors.As(err, &refusal) {
			fmt.Fprintf(stderr, "tenants: %s\n", refusal.Message)
		} else {
			fmt.Fprintf(stderr, "tenants: %v\n", err)
		}
		return 1
	}
	return 0
}

// parseInterleaved parses flags wherever they are among the words, as in
// `remove acme --drop-data`, and returns the words.
func parseInterleaved(flags *flag.FlagSet, args []string) ([]string, error) {
	var words []string
	for {
		if err := flags.Parse(args); err != nil {
			return nil, err
		}
		args = flags.Args()
		if len(args) == 0 {
			return words, nil
		}
		words = append(words, args[0])
		args = args[1:]
	}
}
