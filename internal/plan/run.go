package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"go.yaml.in/yaml/v3"

	"github.com/saas-platform/saas-platform/components/data"
	"github.com/saas-platform/saas-platform/components/platform"
	"github.com/saas-platform/saas-platform/config"
)

// Result is what one offline run of the program registered and exported.
type Result struct {
	Stack     string         `json:"stack"`
	Resources []Resource     `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
	// Invokes are the data sources the program read, for tests.
	Invokes []Invoke `json:"-"`
}

// ProjectName reads the project name from the Pulumi.yaml in dir.
func ProjectName(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return "", fmt.Errorf("reading the project file: %w", err)
	}
	var project struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(data, &project); err != nil || project.Name == "" {
		return "", fmt.Errorf("%s: no project name found", filepath.Join(dir, "Pulumi.yaml"))
	}
	return project.Name, nil
}

// RunStackFile runs the program on a stack file, with the project named by
// the Pulumi.yaml in projectDir, as a first deployment.
func RunStackFile(projectDir, stackFile, stack string) (*Result, error) {
	project, err := ProjectName(projectDir)
	if err != nil {
		return nil, err
	}
	sf, err := config.ReadStackFile(stackFile, project)
	if err != nil {
		return nil, err
	}
	return Run(project, stack, sf, nil)
}

// DefaultRegion is planned for when neither the stack file nor the
// environment names a region.
const DefaultRegion = "us-east-1"

// Run runs the whole program, platform.Run, under the recording mock, with
// the stack file's values as the stack's configuration. previous, when not
// nil, are the outputs of an earlier deployment (see `pulumi stack output
// --json`): plan changes are checked against them. A config error is
// returned as is (a *config.Error), before anything is recorded. options
// adjust the mock, for tests of what AWS may answer.
func Run(project, stack string, sf *config.StackFile, previous map[string]any, options ...func(*Mocks)) (*Result, error) {
	region := sf.Values[config.KeyRegion]
	mocks := NewMocks(project, stack, region).WithPrevious(previous)
	for _, option := range options {
		option(mocks)
	}
	exports := newExports()

	keys := make([]string, 0, len(sf.Values))
	for k := range sf.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		return platform.Run(ctx, keys, func(name string, value pulumi.Input) {
			ctx.Export(name, value)
			exports.watch(name, value)
		})
	}, pulumi.WithMocks(project, stack, mocks), func(info *pulumi.RunInfo) {
		info.Config = sf.Values
		info.ConfigSecretKeys = sf.SecretKeys
	})
	if err != nil {
		return nil, unwrapConfigError(err)
	}

	res := &Result{Stack: stack, Outputs: exports.values(), Invokes: mocks.Invokes()}
	for _, r := range mocks.Resources() {
		if r.Type == "pulumi:pulumi:Stack" {
			continue
		}
		res.Resources = append(res.Resources, r)
	}
	return res, nil
}

// unwrapConfigError digs a *config.Error out of the SDK's multierror, so
// callers can tell invalid config from other failures, and reduces a run
// without Go to its one sentence.
func unwrapConfigError(err error) error {
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return cfgErr
	}
	if errors.Is(err, data.ErrNoGoToolchain) {
		return data.ErrNoGoToolchain
	}
	return err
}

// exports captures stack outputs as they resolve; the SDK's mocks do not
// hand them back.
type exports struct {
	mu      sync.Mutex
	outputs map[string]pulumi.Output
	plain   map[string]any
	// resolved counts the outputs whose value has been recorded: the run
	// does not wait for the applies that record them.
	resolved sync.WaitGroup
}

func newExports() *exports {
	return &exports{outputs: map[string]pulumi.Output{}, plain: map[string]any{}}
}

func (e *exports) watch(name string, value pulumi.Input) {
	out := pulumi.ToOutput(value)
	e.mu.Lock()
	e.outputs[name] = out
	e.mu.Unlock()
	e.resolved.Add(1)
	out.ApplyT(func(v any) any {
		defer e.resolved.Done()
		e.mu.Lock()
		defer e.mu.Unlock()
		e.plain[name] = normalize(v)
		return nil
	})
}

// exportTimeout bounds the wait for outputs: one that never resolves shows
// as null instead of hanging the plan.
const exportTimeout = 30 * time.Second

// values returns the resolved outputs, secrets replaced; call it after the
// run. It waits until every watched output's value is recorded.
func (e *exports) values() map[string]any {
	done := make(chan struct{})
	go func() { e.resolved.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(exportTimeout):
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]any{}
	names := make([]string, 0, len(e.outputs))
	for name := range e.outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if pulumi.IsSecret(e.outputs[name]) {
			out[name] = config.SecretPlaceholder
			continue
		}
		out[name] = e.plain[name]
	}
	return out
}

// normalize round-trips a value through JSON so that typed slices and maps
// compare and print like the JSON plan.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// RemovalNotices are the notices of the tenants the previous deployment has
// and the stack file no longer lists (see config.RemovalNotice); none when
// there is no previous deployment or its outputs cannot be read.
func RemovalNotices(project, stack string, sf *config.StackFile, previous map[string]any) []string {
	if previous == nil {
		return nil
	}
	s, err := config.ParseSecret(project, stack, sf.Values, sf.SecretKeys)
	if err != nil {
		return nil
	}
	deployed, err := config.DeployedFrom(previous[platform.OutputTenants], nil, nil)
	if err != nil {
		return nil
	}
	return config.RemovalNotices(s, deployed)
}
