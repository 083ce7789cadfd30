// Command delivery holds the logic of the delivery workflows
// (.github/workflows/images.yml, deploy.yml, image-tags.yml, drift.yml), so
// that it is tested Go rather than untested shell:
//
//	services      which images to build: all, what a diff touches, or what changed since the deployed tag
//	set-tags      set services' imageTag in a stack file, keeping its comments and layout
//	promote       the name=tag pairs that bring the next stack's tags to the previous stack's
//	stack-settings copy the secrets settings `pulumi stack init` wrote into another version of a stack file
//	guard         fail when a change moves a deployed imageTag (pull requests)
//	targets       the URNs a targeted `pulumi up` needs to create the image repositories
//	rollout       the ECS services of a stack and the task definition each should run
//	drift         a Markdown report of `pulumi preview --refresh --json`
//	scan-report   a Markdown report of ECR scan findings
//
// Exit status: 0 done, 1 the check failed (guard, drift, scan-report), 2 bad
// usage or input.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errFailed is a check that ran and failed (exit 1), as opposed to bad input (exit 2).
var errFailed = errors.New("check failed")

var commands = map[string]func(args []string, stdout io.Writer) error{
	"services":       cmdServices,
	"set-tags":       cmdSetTags,
	"promote":        cmdPromote,
	"stack-settings": cmdStackSettings,
	"guard":          cmdGuard,
	"targets":        cmdTargets,
	"rollout":        cmdRollout,
	"drift":          cmdDrift,
	"scan-report":    cmdScanReport,
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || commands[args[0]] == nil {
		fmt.Fprintln(stderr, "usage: delivery services|set-tags|promote|stack-settings|guard|targets|rollout|drift|scan-report [flags]")
		return 2
	}
	if err := commands[args[0]](args[1:], stdout); err != nil {
		if errors.Is(err, errFailed) {
			return 1
		}
		fmt.Fprintf(stderr, "delivery %s: %v\n", args[0], err)
		return 2
	}
	return 0
}

// projectName reads the project (the config namespace) from Pulumi.yaml.
// It repeats plan.ProjectName on purpose: importing internal/plan would
// compile the whole program (the Pulumi and AWS SDKs) into every
// `go run ./cmd/delivery`, in jobs that need nothing but YAML.
func projectName(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return "", err
	}
	var p struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(raw, &p); err != nil || p.Name == "" {
		return "", fmt.Errorf("Pulumi.yaml names no project")
	}
	return p.Name, nil
}

// readStackFiles reads two stack files of the project whose Pulumi.yaml is
// in dir.
func readStackFiles(dir, a, b string) (*stackFile, *stackFile, error) {
	project, err := projectName(dir)
	if err != nil {
		return nil, nil, err
	}
	first, err := readStackFile(a, project)
	if err != nil {
		return nil, nil, err
	}
	second, err := readStackFile(b, project)
	if err != nil {
		return nil, nil, err
	}
	return first, second, nil
}

func readStackFile(path, project string) (*stackFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseStackFile(path, raw, project)
}

func cmdServices(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("services", flag.ContinueOnError)
	dir := fs.String("dir", ".", "the repository")
	pushStack := fs.String("push-stack", "dev", "the stack whose repositories receive the images")
	base := fs.String("base", "", "build only what the diff from this revision to HEAD touches (pull requests)")
	deployed := fs.String("since-deployed", "", "build only the pushed images changed since the tag deployed in this stack file (main)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	project, err := projectName(*dir)
	if err != nil {
		return err
	}
	r := repo{dir: *dir}
	names, err := filepath.Glob(filepath.Join(*dir, "Pulumi.*.yaml"))
	if err != nil {
		return err
	}
	var files []*stackFile
	for _, n := range names {
		if _, ok := stackName(n); !ok {
			continue
		}
		f, err := readStackFile(n, project)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	targets, err := buildTargets(*dir, files, *pushStack)
	if err != nil {
		return err
	}
	switch {
	case *base != "" && *deployed != "":
		return errors.New("-base and -since-deployed exclude each other")
	case *base != "":
		changed, err := r.changed(*base, "HEAD")
		if err != nil {
			return err
		}
		targets = changedSince(targets, changed)
	case *deployed != "":
		f, err := readStackFile(*deployed, project)
		if err != nil {
			return err
		}
		if targets, err = changedSinceDeployed(r, targets, f, "HEAD"); err != nil {
			return err
		}
	default:
		for i := range targets {
			targets[i].Reason = "all services"
		}
	}
	if targets == nil {
		targets = []target{}
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(targets)
}

func cmdSetTags(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("set-tags", flag.ContinueOnError)
	dir := fs.String("dir", ".", "the repository (for Pulumi.yaml)")
	file := fs.String("file", "", "the stack file to edit")
	from := fs.String("from", "", "first copy every service's imageTag, and the stack's secrets settings, from this version of the stack file (main's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("-file is required")
	}
	sets, err := parseAssignments(fs.Args())
	if err != nil {
		return err
	}
	project, err := projectName(*dir)
	if err != nil {
		return err
	}
	f, err := readStackFile(*file, project)
	if err != nil {
		return err
	}
	original := append([]byte(nil), f.src...)
	if *from != "" {
		source, err := readStackFile(*from, project)
		if err != nil {
			return err
		}
		tags, err := source.tags()
		if err != nil {
			return err
		}
		// A first deployment commits the secrets settings of a new stack
		// to main; a commit older than that lacks them.
		if _, err := f.copyTopLevel(source, stackSecretsKeys); err != nil {
			return err
		}
		current, err := f.services()
		if err != nil {
			return err
		}
		for _, s := range current {
			if tag, ok := tags[s.Name]; ok && s.Image == "" {
				if _, err := f.setTag(s.Name, tag); err != nil {
					return err
				}
			}
		}
	}
	// Every change is made, and checked, before the file is written or
	// anything is printed: a refused command leaves the file as it was and
	// says only why, on stderr.
	var done []string
	for _, kv := range sets {
		changed, err := f.setTag(kv[0], kv[1])
		if err != nil {
			return err
		}
		if changed {
			done = append(done, fmt.Sprintf("%s: %s=%s", f.name, kv[0], kv[1]))
		}
	}
	if string(original) == string(f.src) {
		return nil
	}
	if err := os.WriteFile(*file, f.src, 0o644); err != nil {
		return err
	}
	for _, line := range done {
		fmt.Fprintln(stdout, line)
	}
	return nil
}

func cmdPromote(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	dir := fs.String("dir", ".", "the repository (for Pulumi.yaml)")
	from := fs.String("from", "", "the stack file promoted from (dev)")
	to := fs.String("to", "", "the stack file promoted to (prod)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("-from and -to are required")
	}
	source, dest, err := readStackFiles(*dir, *from, *to)
	if err != nil {
		return err
	}
	sets, err := promotions(source, dest)
	if err != nil {
		return err
	}
	if len(sets) > 0 {
		fmt.Fprintln(stdout, strings.Join(sets, " "))
	}
	return nil
}

// stackSecretsKeys are what `pulumi stack init` writes into a stack file.
var stackSecretsKeys = []string{"secretsprovider", "encryptedkey", "encryptionsalt"}

func cmdStackSettings(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stack-settings", flag.ContinueOnError)
	dir := fs.String("dir", ".", "the repository (for Pulumi.yaml)")
	file := fs.String("file", "", "the stack file to complete")
	from := fs.String("from", "", "the stack file pulumi stack init wrote")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || *from == "" {
		return errors.New("-file and -from are required")
	}
	source, f, err := readStackFiles(*dir, *from, *file)
	if err != nil {
		return err
	}
	changed, err := f.copyTopLevel(source, stackSecretsKeys)
	if err != nil || !changed {
		return err
	}
	fmt.Fprintf(stdout, "%s: recorded the stack's secrets settings\n", *file)
	return os.WriteFile(*file, f.src, 0o644)
}

func cmdGuard(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("guard", flag.ContinueOnError)
	dir := fs.String("dir", ".", "the repository")
	base := fs.String("base", "", "the base revision (the pull request's base branch)")
	head := fs.String("head", "HEAD", "the revision checked (the pull request's merge commit)")
	author := fs.String("author", "", "who opened the pull request")
	exempt := fs.String("exempt", "github-actions[bot]", "comma-separated authors allowed to move tags (the deploy workflow)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" {
		return errors.New("-base is required")
	}
	project, err := projectName(*dir)
	if err != nil {
		return err
	}
	r := repo{dir: *dir}
	read := func(rev string) (map[string][]byte, error) {
		names, err := r.stackFiles(rev)
		if err != nil {
			return nil, err
		}
		out := map[string][]byte{}
		for _, n := range names {
			raw, ok, err := r.show(rev, n)
			if err != nil {
				return nil, err
			}
			if ok {
				out[n] = raw
			}
		}
		return out, nil
	}
	before, err := read(*base)
	if err != nil {
		return err
	}
	after, err := read(*head)
	if err != nil {
		return err
	}
	changes, err := tagChanges(project, before, after)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		fmt.Fprintln(stdout, "No deployed image tag changes.")
		return nil
	}
	for _, a := range strings.Split(*exempt, ",") {
		if a = strings.TrimSpace(a); a != "" && a == *author {
			fmt.Fprintf(stdout, "%s moves image tags, as the deploy workflow does:\n", *author)
			for _, c := range changes {
				fmt.Fprintf(stdout, "- %s\n", c)
			}
			return nil
		}
	}
	fmt.Fprintln(stdout, "This change moves the image tags that are deployed:")
	for _, c := range changes {
		fmt.Fprintf(stdout, "- %s\n", c)
	}
	fmt.Fprintln(stdout, "\nOnly the deploy workflow records deployed tags (it commits them to main after each deploy), so that "+
		"a pull request, and its preview, can never roll a service back. Revert these lines (merge main into the branch "+
		"if they came from an old copy of the stack file). To deploy or roll back a service at a given tag, run the deploy "+
		"workflow by hand with that service and tag.")
	return errFailed
}

func cmdTargets(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("targets", flag.ContinueOnError)
	planFile := fs.String("plan", "", "the offline plan as JSON (go run ./cmd/plan --stack <stack> --format json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*planFile)
	if err != nil {
		return err
	}
	urns, err := repositoryTargets(raw, []string{typeRepository, typeLifecyclePolicy})
	if err != nil {
		return err
	}
	for _, u := range urns {
		fmt.Fprintln(stdout, u)
	}
	return nil
}

func cmdRollout(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	stateFile := fs.String("state", "", "pulumi stack export output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*stateFile)
	if err != nil {
		return err
	}
	services, err := ecsServices(raw)
	if err != nil {
		return err
	}
	for _, s := range services {
		fmt.Fprintf(stdout, "%s %s %s\n", s.Cluster, s.Name, s.TaskDefinition)
	}
	return nil
}

func cmdDrift(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("drift", flag.ContinueOnError)
	stack := fs.String("stack", "", "the stack, for the report's title")
	previewFile := fs.String("preview", "", "pulumi preview --refresh --json output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*previewFile)
	if err != nil {
		return err
	}
	n, err := driftReport(stdout, *stack, raw)
	if err != nil {
		return err
	}
	if n > 0 {
		return errFailed
	}
	return nil
}

func cmdScanReport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("scan-report", flag.ContinueOnError)
	image := fs.String("image", "", "the image, for the report's title")
	failAt := fs.String("fail-at", "", "fail when findings of this severity or worse exist (CRITICAL, HIGH, ...); empty: report only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var platforms []string
	var findings [][]byte
	for _, a := range fs.Args() {
		platform, file, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("%q: expected platform=findings.json", a)
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		platforms = append(platforms, platform)
		findings = append(findings, raw)
	}
	if len(findings) == 0 {
		return errors.New("no findings files given")
	}
	n, err := scanReport(stdout, *image, platforms, findings, *failAt)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "%d findings at %s or above: failing, as IMAGE_SCAN_FAIL_AT asks.\n", n, strings.ToUpper(*failAt))
		return errFailed
	}
	return nil
}
