package migrations

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeECS runs every task to its end at once: the exit code is the
// tenant's entry in exits (0 when absent), a tenant in refuse is not
// started, one in hang never stops.
type fakeECS struct {
	mu      sync.Mutex
	exits   map[string]int32
	refuse  map[string]string
	hang    map[string]bool
	runs    []*ecs.RunTaskInput
	byTask  map[string]string // task ARN -> tenant
	running int
	peak    int
}

func (f *fakeECS) RunTask(_ context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, in)
	tenant := ""
	for _, kv := range in.Overrides.ContainerOverrides[0].Environment {
		if aws.ToString(kv.Name) == EnvTenantID {
			tenant = aws.ToString(kv.Value)
		}
	}
	if reason, ok := f.refuse[tenant]; ok {
		return &ecs.RunTaskOutput{Failures: []ecstypes.Failure{{Reason: aws.String(reason)}}}, nil
	}
	if f.byTask == nil {
		f.byTask = map[string]string{}
	}
	arn := fmt.Sprintf("arn:aws:ecs:eu-west-1:123456789012:task/c/%s", tenant)
	f.byTask[arn] = tenant
	f.running++
	f.peak = max(f.peak, f.running)
	return &ecs.RunTaskOutput{Tasks: []ecstypes.Task{{TaskArn: aws.String(arn), LastStatus: aws.String("PROVISIONING")}}}, nil
}

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out ecs.DescribeTasksOutput
	for _, arn := range in.Tasks {
		tenant := f.byTask[arn]
		if f.hang[tenant] {
			out.Tasks = append(out.Tasks, ecstypes.Task{TaskArn: aws.String(arn), LastStatus: aws.String("RUNNING")})
			continue
		}
		f.running--
		out.Tasks = append(out.Tasks, ecstypes.Task{TaskArn: aws.String(arn), LastStatus: aws.String("STOPPED"),
			StoppedReason: aws.String("Essential container in task exited"),
			Containers: []ecstypes.Container{
				{Name: aws.String("log-router"), ExitCode: aws.Int32(0)},
				{Name: aws.String("api"), ExitCode: aws.Int32(f.exits[tenant])},
			}})
	}
	return &out, nil
}

func (f *fakeECS) tenantsRun() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, in := range f.runs {
		for _, kv := range in.Overrides.ContainerOverrides[0].Environment {
			if aws.ToString(kv.Name) == EnvTenantID {
				ids = append(ids, aws.ToString(kv.Value))
			}
		}
	}
	return ids
}

func spec() Spec {
	return Spec{
		Service:          "api",
		Cluster:          "arn:aws:ecs:eu-west-1:123456789012:cluster/saas-platform-dev",
		TaskDefinition:   "arn:aws:ecs:eu-west-1:123456789012:task-definition/saas-platform-dev-api:7",
		Container:        "api",
		Command:          []string{"npm", "run", "migrate"},
		Subnets:          []string{"subnet-0a1b", "subnet-0c2d"},
		SecurityGroups:   []string{"sg-0e3f"},
		TaskRole:         "arn:aws:iam::123456789012:role/api-migration",
		CapacityProvider: "FARGATE",
	}
}

func tenants(ids ...string) []Tenant {
	var out []Tenant
	for _, id := range ids {
		out = append(out, Tenant{ID: id, SecretID: "saas-platform/dev/tenants/" + id + "/database"})
	}
	return out
}

func runner(f *fakeECS) *Runner { return &Runner{ECS: f, Poll: time.Millisecond} }

func TestEachTenantGetsItsOwnTaskOfTheServiceWithItsIdAndSecret(t *testing.T) {
	f := &fakeECS{}
	res, err := runner(f).Handle(context.Background(), Request{Spec: spec(), Tenants: tenants("acme", "globex")})
	require.NoError(t, err)
	assert.Equal(t, Result{Service: "api", Action: ActionCreate, Migrated: []string{"acme", "globex"}}, res)
	require.Len(t, f.runs, 2)
	for _, in := range f.runs {
		assert.Equal(t, spec().TaskDefinition, aws.ToString(in.TaskDefinition))
		assert.Equal(t, spec().Cluster, aws.ToString(in.Cluster))
		assert.Equal(t, ecstypes.AssignPublicIpDisabled, in.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp, "a migration runs in the private subnets")
		assert.Equal(t, spec().SecurityGroups, in.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups)
		assert.Equal(t, spec().TaskRole, aws.ToString(in.Overrides.TaskRoleArn))
		assert.Equal(t, "FARGATE", aws.ToString(in.CapacityProviderStrategy[0].CapacityProvider), "no Spot reclaim interrupts a migration")
		c := in.Overrides.ContainerOverrides[0]
		assert.Equal(t, "api", aws.ToString(c.Name))
		assert.Equal(t, []string{"npm", "run", "migrate"}, c.Command)
		env := map[string]string{}
		for _, kv := range c.Environment {
			env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
		assert.Equal(t, "saas-platform/dev/tenants/"+env[EnvTenantID]+"/database", env[EnvTenantSecretID])
	}
	assert.ElementsMatch(t, []string{"acme", "globex"}, f.tenantsRun())
}

func TestWhichTenantsAChangeMigrates(t *testing.T) {
	newImage := spec()
	newImage.TaskDefinition = strings.Replace(newImage.TaskDefinition, ":7", ":8", 1)
	newCommand := spec()
	newCommand.Command = []string{"npm", "run", "migrate:all"}
	paced := spec()
	paced.Concurrency = 2
	moved := tenants("acme", "globex")
	moved[1].SecretID = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:saas-platform/dev/tenants/globex/database-AbCdEf"
	cases := []struct {
		name     string
		req      Request
		expected []string
	}{
		{"the first run migrates every tenant", Request{Spec: spec(), Tenants: tenants("acme", "globex"),
			TF: &Lifecycle{Action: ActionCreate}}, []string{"acme", "globex"}},
		{"a new task (image, command, variables) migrates every tenant", Request{Spec: newImage, Tenants: tenants("acme", "globex"),
			TF: &Lifecycle{Action: ActionUpdate, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme", "globex")}}}, []string{"acme", "globex"}},
		{"a new migrate command migrates every tenant", Request{Spec: newCommand, Tenants: tenants("acme"),
			TF: &Lifecycle{Action: ActionUpdate, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme")}}}, []string{"acme"}},
		{"a new tenant alone migrates only that tenant", Request{Spec: spec(), Tenants: tenants("acme", "globex", "initech"),
			TF: &Lifecycle{Action: ActionUpdate, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme", "globex")}}}, []string{"initech"}},
		{"a tenant whose credentials moved is migrated again", Request{Spec: spec(), Tenants: moved,
			TF: &Lifecycle{Action: ActionUpdate, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme", "globex")}}}, []string{"globex"}},
		{"a removed tenant migrates nobody", Request{Spec: spec(), Tenants: tenants("acme"),
			TF: &Lifecycle{Action: ActionUpdate, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme", "globex")}}}, nil},
		{"pacing differently migrates nobody", Request{Spec: paced, Tenants: tenants("acme"),
			TF: &Lifecycle{Action: ActionUpdate, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme")}}}, nil},
		{"removing the service or its migrate command migrates nobody", Request{Spec: spec(), Tenants: tenants("acme"),
			TF: &Lifecycle{Action: ActionDelete, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme")}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeECS{}
			res, err := runner(f).Handle(context.Background(), tc.req)
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.expected, f.tenantsRun())
			assert.ElementsMatch(t, tc.expected, res.Migrated)
		})
	}
}

func TestAFailedMigrationNamesTheTenantAndStartsNoMore(t *testing.T) {
	ids := []string{"acme", "globex", "initech", "umbrella", "wayne"}
	s := spec()
	s.Concurrency = 1
	f := &fakeECS{exits: map[string]int32{"globex": 3}}
	res, err := runner(f).Handle(context.Background(), Request{Spec: s, Tenants: tenants(ids...)})
	var failed *Error
	require.ErrorAs(t, err, &failed)
	assert.Equal(t, []string{"acme"}, res.Migrated)
	require.Len(t, failed.Failures, 1)
	assert.Equal(t, "globex", failed.Failures[0].Tenant)
	assert.Equal(t, []string{"initech", "umbrella", "wayne"}, failed.NotStarted)
	assert.Contains(t, err.Error(), "tenant globex: the migration exited with code 3")
	assert.Contains(t, err.Error(), "not rolled out")
}

func TestATaskECSRefusesToStartIsAFailureOfThatTenant(t *testing.T) {
	f := &fakeECS{refuse: map[string]string{"acme": "RESOURCE:ENI"}}
	_, err := runner(f).Handle(context.Background(), Request{Spec: spec(), Tenants: tenants("acme")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tenant acme: ECS started no task: RESOURCE:ENI")
}

func TestATaskThatStoppedBeforeTheMigrationRanIsAFailure(t *testing.T) {
	task := ecstypes.Task{StoppedReason: aws.String("CannotPullContainerError: pull access denied"),
		Containers: []ecstypes.Container{{Name: aws.String("api")}}}
	err := outcome(task, "api")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CannotPullContainerError")
	assert.Error(t, outcome(ecstypes.Task{}, "api"), "a stopped task without the service's container did not migrate")
}

func TestNoMoreTenantsMigrateAtOnceThanTheSpecAllows(t *testing.T) {
	s := spec()
	s.Concurrency = 3
	f := &fakeECS{}
	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprintf("tenant-%d", i))
	}
	_, err := runner(f).Handle(context.Background(), Request{Spec: s, Tenants: tenants(ids...)})
	require.NoError(t, err)
	assert.Len(t, f.runs, 12)
	assert.LessOrEqual(t, f.peak, 3)
}

func TestRunningOutOfTimeNamesTheTenantsStillRunning(t *testing.T) {
	f := &fakeECS{hang: map[string]bool{"globex": true}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := &Runner{ECS: f, Poll: time.Millisecond, Margin: 100 * time.Millisecond}
	res, err := r.Handle(ctx, Request{Spec: spec(), Tenants: tenants("acme", "globex")})
	require.Error(t, err)
	assert.Equal(t, []string{"acme"}, res.Migrated)
	assert.Contains(t, err.Error(), "tenant globex: still running when the function's time ran out")
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "the cause stays visible to callers")
}

func TestHostileRequestsAreRefusedBeforeAnyTaskStarts(t *testing.T) {
	cases := map[string]func(*Request){
		"a tenant id that is no tenant id":        func(r *Request) { r.Tenants[0].ID = "acme; drop" },
		"a tenant listed twice":                   func(r *Request) { r.Tenants = append(r.Tenants, r.Tenants[0]) },
		"a secret that is neither ARN nor name":   func(r *Request) { r.Tenants[0].SecretID = "x y" },
		"an empty command":                        func(r *Request) { r.Command = nil },
		"an empty argument":                       func(r *Request) { r.Command = []string{"npm", ""} },
		"a task definition that is no ARN":        func(r *Request) { r.TaskDefinition = "api:7" },
		"a role that is no ARN":                   func(r *Request) { r.TaskRole = "admin" },
		"no subnets":                              func(r *Request) { r.Subnets = nil },
		"a security group that is no group id":    func(r *Request) { r.SecurityGroups = []string{"0.0.0.0/0"} },
		"a capacity provider ECS does not know":   func(r *Request) { r.CapacityProvider = "EC2" },
		"more tenants at once than the cap":       func(r *Request) { r.Concurrency = MaxConcurrency + 1 },
		"a container name with a shell character": func(r *Request) { r.Container = "api`id`" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			req := Request{Spec: spec(), Tenants: tenants("acme")}
			mutate(&req)
			f := &fakeECS{}
			_, err := runner(f).Handle(context.Background(), req)
			require.Error(t, err)
			assert.Empty(t, f.runs)
		})
	}
}

type runTime []Tenant

func (r runTime) MigrationTenants(context.Context) ([]Tenant, error) { return r, nil }

func TestANewTaskMigratesTheRunTimeTenantsTooAndANewTenantAloneDoesNot(t *testing.T) {
	newImage := spec()
	newImage.TaskDefinition = strings.Replace(newImage.TaskDefinition, ":7", ":8", 1)
	cases := []struct {
		name     string
		req      Request
		expected []string
	}{
		{"the first run", Request{Spec: spec(), Tenants: tenants("acme")}, []string{"acme", "hooli"}},
		{"a new task", Request{Spec: newImage, Tenants: tenants("acme"),
			TF: &Lifecycle{Action: ActionUpdate, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme")}}}, []string{"acme", "hooli"}},
		{"a new stack-file tenant", Request{Spec: spec(), Tenants: tenants("acme", "globex"),
			TF: &Lifecycle{Action: ActionUpdate, PrevInput: &Request{Spec: spec(), Tenants: tenants("acme")}}}, []string{"globex"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeECS{}
			r := runner(f)
			r.RunTime = runTime(tenants("hooli", "acme")) // acme: promoted into the stack file
			_, err := r.Handle(context.Background(), tc.req)
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.expected, f.tenantsRun())
		})
	}
}
