// Package migrations owns running a service's tenant migrations: one
// one-off ECS task of the service per tenant (its task definition, network
// and security group, its migrate command, TENANT_ID and the tenant's
// credentials' secret), waited for until it stops, a failure naming the
// tenant. The deployment invokes it once per service with a migrate command
// (aws.lambda.Invocation, lifecycle CRUD) before the service rolls out; the
// onboarding worker runs the same code for a tenant it creates at run time.
package migrations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// Handler is the runner's TENANTDB_HANDLER in the provisioner's binary.
const Handler = "migrations"

// The variables a migration task gets besides its task definition's own.
const (
	EnvTenantID       = "TENANT_ID"
	EnvTenantSecretID = "TENANT_SECRET_ID"
)

// The lifecycle actions aws.lambda.Invocation sends under "tf".
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Limits on one invocation.
const (
	// DefaultConcurrency is how many tenants migrate at once unless the
	// request says otherwise; MaxConcurrency caps what it may say (ECS
	// starts RunTask calls at a sustained rate of about 20 a second, and a
	// shared PostgreSQL must not see every tenant's DDL at once).
	DefaultConcurrency = 5
	MaxConcurrency     = 20
	// startedBy marks the tasks in the ECS console and in DescribeTasks.
	startedBy = "saas-platform-migrations"
)

// Tenant is one tenant to migrate: its id and its credentials' secret (an
// ARN or a name: what Secrets Manager's SecretId accepts).
type Tenant struct {
	ID       string `json:"id"`
	SecretID string `json:"secretId"`
}

// Spec is what runs a service's migration, whichever tenant it is for.
type Spec struct {
	Service        string   `json:"service"`
	Cluster        string   `json:"cluster"`
	TaskDefinition string   `json:"taskDefinition"`
	Container      string   `json:"container"`
	Command        []string `json:"command"`
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups"`
	// TaskRole is the migration's own role: the service's task role's
	// permissions plus reading the tenants' credentials, which the
	// service's role has only when it asks for them.
	TaskRole string `json:"taskRole"`
	// CapacityProvider runs the tasks: on-demand Fargate, so that no Spot
	// reclaim interrupts a migration half-way.
	CapacityProvider string `json:"capacityProvider"`
	Concurrency      int    `json:"concurrency,omitempty"`
}

// Request is the deployment's invocation: a service's spec and every
// tenant of the stack file; TF is what Pulumi adds (lifecycle CRUD).
type Request struct {
	Spec
	Tenants []Tenant   `json:"tenants"`
	TF      *Lifecycle `json:"tf,omitempty"`
}

// Lifecycle is the invocation's "tf" block: the action, and the input of
// the last successful invocation.
type Lifecycle struct {
	Action    string   `json:"action"`
	PrevInput *Request `json:"prev_input,omitempty"`
}

// Result is what the invocation returns to Pulumi.
type Result struct {
	Service  string   `json:"service"`
	Action   string   `json:"action"`
	Migrated []string `json:"migrated"`
}

// ECSAPI is the part of ECS the runner uses.
type ECSAPI interface {
	RunTask(context.Context, *ecs.RunTaskInput, ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(context.Context, *ecs.DescribeTasksInput, ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// RunTimeTenants lists the tenants the onboarding API made, which the
// stack file does not list: a new task migrates them too.
type RunTimeTenants interface {
	MigrationTenants(ctx context.Context) ([]Tenant, error)
}

// Runner runs migration tasks and waits for them.
type Runner struct {
	ECS ECSAPI
	// RunTime, when set, adds the run-time tenants to every run that
	// migrates all tenants; nil in a stack without the onboarding API.
	RunTime RunTimeTenants
	// Poll is how often stopped tasks are looked for; 0 is 10 seconds.
	Poll time.Duration
	// Margin is kept before the context's deadline (the function's
	// timeout) to fail naming the tenants still running rather than be
	// cut off; 0 is 30 seconds.
	Margin time.Duration
	Log    *slog.Logger
}

// Handle is the deployment's entry point: it works out which tenants the
// change needs migrated and runs them.
func (r *Runner) Handle(ctx context.Context, req Request) (Result, error) {
	action := ActionCreate
	if req.TF != nil && req.TF.Action != "" {
		action = req.TF.Action
	}
	result := Result{Service: req.Service, Action: action, Migrated: []string{}}
	if action == ActionDelete {
		// The service or its migrate command left the stack: nothing runs.
		return result, nil
	}
	if err := req.Spec.Check(); err != nil {
		return result, err
	}
	if err := checkTenants(req.Tenants); err != nil {
		return result, err
	}
	var previous *Request
	if req.TF != nil {
		previous = req.TF.PrevInput
	}
	due, all := Due(req, previous)
	if all && r.RunTime != nil {
		// Run-time tenants were migrated when they were made; a new task
		// needs them migrated again, like the stack file's.
		more, err := r.RunTime.MigrationTenants(ctx)
		if err != nil {
			return result, fmt.Errorf("migrations of %s: listing the run-time tenants: %w", req.Service, err)
		}
		for _, t := range more {
			// A tenant promoted into the stack file is listed by both.
			if !slices.ContainsFunc(req.Tenants, func(s Tenant) bool { return s.ID == t.ID }) {
				due = append(due, t)
			}
		}
		if err := checkTenants(due); err != nil {
			return result, err
		}
	}
	migrated, err := r.Run(ctx, req.Spec, due)
	result.Migrated = migrated
	return result, err
}

// Due are the tenants a change needs migrated: every tenant (all is true)
// when the task (image, command, variables), the migrate command or where
// it runs changed, or on the first run; otherwise the tenants that are new
// or whose credentials moved.
func Due(req Request, previous *Request) (due []Tenant, all bool) {
	if previous == nil || !sameSpec(req.Spec, previous.Spec) {
		return req.Tenants, true
	}
	known := map[string]string{}
	for _, t := range previous.Tenants {
		known[t.ID] = t.SecretID
	}
	for _, t := range req.Tenants {
		if secret, ok := known[t.ID]; !ok || secret != t.SecretID {
			due = append(due, t)
		}
	}
	return due, false
}

// sameSpec compares what a migration runs with; concurrency only paces it.
func sameSpec(a, b Spec) bool {
	a.Concurrency, b.Concurrency = 0, 0
	return a.Service == b.Service && a.Cluster == b.Cluster && a.TaskDefinition == b.TaskDefinition &&
		a.Container == b.Container && slices.Equal(a.Command, b.Command) && slices.Equal(a.Subnets, b.Subnets) &&
		slices.Equal(a.SecurityGroups, b.SecurityGroups) && a.TaskRole == b.TaskRole && a.CapacityProvider == b.CapacityProvider
}

var (
	arnSyntax  = regexp.MustCompile(`^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:[A-Za-z0-9_/:.+=@-]+$`)
	nameSyntax = regexp.MustCompile(`^[a-z][a-z0-9-]{0,254}$`)
	idSyntax   = regexp.MustCompile(`^[a-z]+-[0-9a-f]+$`)
	secretName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
)

// Check refuses a spec that could not run, or that carries what ECS would
// take for something else: every value reaches an ECS API call.
func (s Spec) Check() error {
	var problems []string
	bad := func(field, value, allowed string) {
		problems = append(problems, fmt.Sprintf("%s %q %s", field, value, allowed))
	}
	if !nameSyntax.MatchString(s.Service) {
		bad("service", s.Service, "must be a service name (lowercase letters, digits, hyphens)")
	}
	if !nameSyntax.MatchString(s.Container) {
		bad("container", s.Container, "must be a container name (lowercase letters, digits, hyphens)")
	}
	for _, f := range []struct{ field, value string }{{"cluster", s.Cluster}, {"taskDefinition", s.TaskDefinition}, {"taskRole", s.TaskRole}} {
		if !arnSyntax.MatchString(f.value) {
			bad(f.field, f.value, "must be an ARN")
		}
	}
	if len(s.Command) == 0 {
		problems = append(problems, "command is empty: it is the service's migrate command")
	}
	for i, arg := range s.Command {
		if arg == "" {
			bad(fmt.Sprintf("command[%d]", i), arg, "must not be empty")
		}
	}
	if len(s.Subnets) == 0 || len(s.SecurityGroups) == 0 {
		problems = append(problems, "subnets and securityGroups are required: a migration runs in the service's private subnets and group")
	}
	for _, id := range append(slices.Clone(s.Subnets), s.SecurityGroups...) {
		if !idSyntax.MatchString(id) {
			bad("network id", id, "must be a subnet-… or sg-… id")
		}
	}
	if s.CapacityProvider != "FARGATE" && s.CapacityProvider != "FARGATE_SPOT" {
		bad("capacityProvider", s.CapacityProvider, "must be FARGATE or FARGATE_SPOT")
	}
	if s.Concurrency < 0 || s.Concurrency > MaxConcurrency {
		problems = append(problems, fmt.Sprintf("concurrency %d must be between 1 and %d (0: %d)", s.Concurrency, MaxConcurrency, DefaultConcurrency))
	}
	if len(problems) > 0 {
		return fmt.Errorf("migrations of %s: %s", s.Service, strings.Join(problems, "; "))
	}
	return nil
}

func checkTenants(tenants []Tenant) error {
	seen := map[string]bool{}
	for _, t := range tenants {
		if err := tenantid.Check(t.ID); err != nil {
			return fmt.Errorf("tenant %q: %v", t.ID, err)
		}
		if seen[t.ID] {
			return fmt.Errorf("tenant %s is listed twice", t.ID)
		}
		seen[t.ID] = true
		if !arnSyntax.MatchString(t.SecretID) && !secretName.MatchString(t.SecretID) {
			return fmt.Errorf("tenant %s: secret %q is neither a secret's ARN nor its name", t.ID, t.SecretID)
		}
	}
	return nil
}

// Failure is one tenant whose migration did not succeed.
type Failure struct {
	Tenant string
	Task   string // the task's ARN; empty when it never started
	Err    error
}

// Error is a run's outcome when any tenant's migration did not succeed:
// what failed, and what was never started because of it.
type Error struct {
	Service    string
	Failures   []Failure
	NotStarted []string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "migrations of service %s failed", e.Service)
	for _, f := range e.Failures {
		fmt.Fprintf(&b, "; tenant %s: %v", f.Tenant, f.Err)
		if f.Task != "" {
			fmt.Fprintf(&b, " (task %s)", f.Task)
		}
	}
	if len(e.NotStarted) > 0 {
		fmt.Fprintf(&b, "; not started, because of the failure: %s", strings.Join(e.NotStarted, ", "))
	}
	b.WriteString(". The service's new task is not rolled out; fix the migration (its log is in the service's log group) and deploy again: every migration reruns")
	return b.String()
}

// Unwrap lets errors.Is see each failure's cause (a deadline, an API error).
func (e *Error) Unwrap() []error {
	var errs []error
	for _, f := range e.Failures {
		errs = append(errs, f.Err)
	}
	return errs
}

// Run migrates each tenant with a task of its own, at most the spec's
// concurrency at a time, and waits for every task it started. After a
// failure it starts no more. It returns the tenants migrated, in order.
func (r *Runner) Run(ctx context.Context, spec Spec, tenants []Tenant) ([]string, error) {
	migrated := []string{}
	if len(tenants) == 0 {
		return migrated, nil
	}
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-r.margin()))
		defer cancel()
	}
	limit := spec.Concurrency
	if limit == 0 {
		limit = DefaultConcurrency
	}
	var (
		mu       sync.Mutex // guards failed, stopped and finished
		wg       sync.WaitGroup
		failed   []Failure
		stopped  bool
		finished = map[string]bool{}
		started  = map[string]bool{} // this loop's own
		slots    = make(chan struct{}, limit)
	)
	for _, t := range tenants {
		slots <- struct{}{}
		mu.Lock()
		halt := stopped || ctx.Err() != nil
		mu.Unlock()
		if halt {
			<-slots
			break
		}
		started[t.ID] = true
		wg.Add(1)
		go func(t Tenant) {
			defer func() { <-slots; wg.Done() }()
			task, err := r.migrate(ctx, spec, t)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, Failure{Tenant: t.ID, Task: task, Err: err})
				stopped = true
				return
			}
			finished[t.ID] = true
		}(t)
	}
	wg.Wait()
	var notStarted []string
	for _, t := range tenants {
		if finished[t.ID] {
			migrated = append(migrated, t.ID)
		} else if !started[t.ID] {
			notStarted = append(notStarted, t.ID)
		}
	}
	if len(failed) == 0 && len(notStarted) == 0 {
		return migrated, nil
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].Tenant < failed[j].Tenant })
	return migrated, &Error{Service: spec.Service, Failures: failed, NotStarted: notStarted}
}

func (r *Runner) margin() time.Duration {
	if r.Margin > 0 {
		return r.Margin
	}
	return 30 * time.Second
}

func (r *Runner) poll() time.Duration {
	if r.Poll > 0 {
		return r.Poll
	}
	return 10 * time.Second
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// migrate runs one tenant's task and waits for it to stop; it returns the
// task's ARN (once started) and why it failed.
func (r *Runner) migrate(ctx context.Context, spec Spec, t Tenant) (string, error) {
	out, err := r.ECS.RunTask(ctx, &ecs.RunTaskInput{
		Cluster:        aws.String(spec.Cluster),
		TaskDefinition: aws.String(spec.TaskDefinition),
		Count:          aws.Int32(1),
		StartedBy:      aws.String(startedBy),
		CapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{
			{CapacityProvider: aws.String(spec.CapacityProvider), Weight: 1},
		},
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: spec.Subnets, SecurityGroups: spec.SecurityGroups, AssignPublicIp: ecstypes.AssignPublicIpDisabled,
		}},
		Overrides: &ecstypes.TaskOverride{
			TaskRoleArn: aws.String(spec.TaskRole),
			ContainerOverrides: []ecstypes.ContainerOverride{{
				Name:    aws.String(spec.Container),
				Command: spec.Command,
				Environment: []ecstypes.KeyValuePair{
					{Name: aws.String(EnvTenantID), Value: aws.String(t.ID)},
					{Name: aws.String(EnvTenantSecretID), Value: aws.String(t.SecretID)},
				},
			}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("starting the task: %w", err)
	}
	if len(out.Failures) > 0 {
		f := out.Failures[0]
		return "", fmt.Errorf("ECS started no task: %s %s", aws.ToString(f.Reason), aws.ToString(f.Detail))
	}
	// A real partial failure can return neither a task nor a failure.
	if len(out.Tasks) == 0 || aws.ToString(out.Tasks[0].TaskArn) == "" {
		return "", errors.New("ECS started no task and said no reason")
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	r.log().Info("migration started", "service", spec.Service, "tenant", t.ID, "task", arn)
	task, err := r.wait(ctx, spec, arn)
	if err != nil {
		return arn, err
	}
	if err := outcome(task, spec.Container); err != nil {
		return arn, err
	}
	r.log().Info("migration done", "service", spec.Service, "tenant", t.ID, "task", arn)
	return arn, nil
}

// wait polls the task until it has stopped.
func (r *Runner) wait(ctx context.Context, spec Spec, arn string) (ecstypes.Task, error) {
	ticker := time.NewTicker(r.poll())
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ecstypes.Task{}, fmt.Errorf("still running when the function's time ran out: it goes on by itself; "+
				"its result is in the service's log group, and the next deployment runs it again (%w)", ctx.Err())
		case <-ticker.C:
		}
		out, err := r.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(spec.Cluster), Tasks: []string{arn}})
		if err != nil {
			return ecstypes.Task{}, fmt.Errorf("watching the task: %w", err)
		}
		for _, task := range out.Tasks {
			if aws.ToString(task.TaskArn) == arn && aws.ToString(task.LastStatus) == "STOPPED" {
				return task, nil
			}
		}
	}
}

// outcome is nil when the migration's container exited 0.
func outcome(task ecstypes.Task, container string) error {
	for _, c := range task.Containers {
		if aws.ToString(c.Name) != container {
			continue
		}
		switch {
		case c.ExitCode == nil:
			return fmt.Errorf("the task stopped before the migration ran: %s %s", aws.ToString(task.StoppedReason), aws.ToString(c.Reason))
		case *c.ExitCode != 0:
			return fmt.Errorf("the migration exited with code %d", *c.ExitCode)
		}
		return nil
	}
	return fmt.Errorf("the task stopped without container %s: %s", container, aws.ToString(task.StoppedReason))
}
