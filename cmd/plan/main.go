// Command plan runs the saas-platform program offline, under mocks, and
// prints what it would register: no Pulumi CLI, plugins or AWS credentials
// needed. Invalid stack config exits 1 with the message on stderr.
//
//	go run ./cmd/plan --stack dev
//	go run ./cmd/plan --config path/to/Pulumi.x.yaml --stack x --format json
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/saas-platform/saas-platform/internal/plan"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
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

	result, err := plan.RunStackFile(*projectDir, file, *stack)
	if err != nil {
		fmt.Fprintln(stderr, err)
		if errors.Is(err, os.ErrNotExist) {
			return 2
		}
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
