package plan

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/saas-platform/saas-platform/config"
)

// Main is the offline plan command: it parses args, runs the program on the
// stack file and writes the plan to stdout. It returns the exit status: 0
// planned, 1 invalid config or failed run (message on stderr, nothing on
// stdout), 2 bad usage or missing file.
func Main(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stack := flags.String("stack", "", "stack name (required); reads Pulumi.<stack>.yaml unless --config is given")
	configFile := flags.String("config", "", "stack file to read instead of Pulumi.<stack>.yaml")
	projectDir := flags.String("project", ".", "directory holding Pulumi.yaml")
	format := flags.String("format", "table", "output format: table or json")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *stack == "" {
		fmt.Fprintln(stderr, "plan: --stack is required")
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
	sf, err := config.ReadStackFile(file, project)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if sf.Values[config.KeyRegion] == "" && config.RegionFromEnvironment() == "" {
		fmt.Fprintf(stderr, "plan: %s sets no aws:region and AWS_REGION is unset: planning for %s\n", file, DefaultRegion)
		sf.Values[config.KeyRegion] = DefaultRegion
	}
	result, err := Run(project, *stack, sf)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *format == "json" {
		err = result.WriteJSON(stdout)
	} else {
		err = result.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
