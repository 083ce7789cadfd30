package onboarding_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/migrations"
	"github.com/saas-platform/saas-platform/internal/onboarding"
	"github.com/saas-platform/saas-platform/internal/tenantdb"
	"github.com/saas-platform/saas-platform/internal/testenv"
)

const (
	// signup is the role the stack names; session is a call made with it.
	signup   = "arn:aws:iam::111122223333:role/signup"
	session  = "arn:aws:sts::111122223333:assumed-role/signup/signup-1"
	intruder = "arn:aws:sts::111122223333:assumed-role/admin/alice"
)

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type fixture struct {
	t        *testing.T
	db       *dynamodb.Client
	queue    *sqs.Client
	queueURL string
	registry *onboarding.Registry
	api      *onboarding.API
}

// newFixture makes a registry table and a queue of its own in moto, with
// stack facts: the stack file's tenants acme and globex, the plan table,
// and pools as given.
func newFixture(t *testing.T, pools map[string]onboarding.Pool) *fixture {
	t.Helper()
	ctx := context.Background()
	cfg := testenv.Moto(t, "ONBOARDING_TEST_AWS_ENDPOINT")
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	table := "onboarding-test-" + suffix()
	testenv.CreateRegistryTable(t, db, table)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("onboarding-test-" + suffix())})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: queue.QueueUrl}) })

	f := &fixture{t: t, db: db, queue: q, queueURL: aws.ToString(queue.QueueUrl),
		registry: &onboarding.Registry{DB: db, Table: table}}
	f.publish(onboarding.StackFacts{
		Stack:   "dev",
		Tenants: []string{"acme", "globex"},
		Plans: map[string]onboarding.Plan{
			"free": {Isolation: "pool", ConnectionLimit: 5}, "basic": {Isolation: "pool", ConnectionLimit: 20},
			"premium": {Isolation: "silo"}, "enterprise": {Isolation: "silo"},
		},
		Pools:       pools,
		MaxIDLength: 40,
	})
	f.api = &onboarding.API{
		Registry: f.registry, Queue: q, QueueURL: f.queueURL, Callers: []string{signup}, Stack: "dev",
		Rules: onboarding.StackRules(), Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	return f
}

func roomyPools() map[string]onboarding.Pool {
	return map[string]onboarding.Pool{
		"shared": {Host: "shared.example", Port: 5432, Class: "db.t4g.micro", Connections: 80, Databases: 1000, StackConnections: 5, StackDatabases: 1},
	}
}

func (f *fixture) publish(facts onboarding.StackFacts) {
	body, err := json.Marshal(facts)
	require.NoError(f.t, err)
	_, err = f.db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(f.registry.Table),
		Item: map[string]ddbtypes.AttributeValue{
			"id":                      &ddbtypes.AttributeValueMemberS{Value: onboarding.StackFactsKey},
			onboarding.FactsAttribute: &ddbtypes.AttributeValueMemberS{Value: string(body)},
		},
	})
	require.NoError(f.t, err)
}

// call sends one request as the function URL would hand it over.
func (f *fixture) call(caller, method, path, body string, query map[string]string) (int, map[string]any) {
	f.t.Helper()
	req := events.LambdaFunctionURLRequest{RawPath: path, Body: body, QueryStringParameters: query}
	req.RequestContext.HTTP.Method = method
	if caller != "" {
		req.RequestContext.Authorizer = &events.LambdaFunctionURLRequestContextAuthorizerDescription{
			IAM: &events.LambdaFunctionURLRequestContextAuthorizerIAMDescription{UserARN: caller, AccountID: "111122223333"},
		}
	}
	res, err := f.api.Handle(context.Background(), req)
	require.NoError(f.t, err)
	var out map[string]any
	require.NoError(f.t, json.Unmarshal([]byte(res.Body), &out), res.Body)
	return res.StatusCode, out
}

// post creates a tenant as the signup role.
func (f *fixture) post(id, plan string) (int, map[string]any) {
	body, _ := json.Marshal(map[string]string{"id": id, "plan": plan})
	return f.call(session, http.MethodPost, "/tenants", string(body), nil)
}

// messages takes what the API queued, as the event source mapping would
// deliver it.
func (f *fixture) messages() []events.SQSMessage {
	f.t.Helper()
	out, err := f.queue.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(f.queueURL), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
	})
	require.NoError(f.t, err)
	var msgs []events.SQSMessage
	for _, m := range out.Messages {
		msgs = append(msgs, events.SQSMessage{Body: aws.ToString(m.Body), Attributes: m.Attributes})
		_, err := f.queue.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(f.queueURL), ReceiptHandle: m.ReceiptHandle})
		require.NoError(f.t, err)
	}
	return msgs
}

func (f *fixture) tenant(id string) (onboarding.Tenant, bool) {
	t, ok, err := f.registry.Get(context.Background(), id)
	require.NoError(f.t, err)
	return t, ok
}

func (f *fixture) usage(pool string) onboarding.Usage {
	u, err := f.registry.Usage(context.Background(), []string{pool})
	require.NoError(f.t, err)
	return u[pool]
}

// recorder is the worker's provisioner in these tests: it records what it
// is asked and fails while fail is set.
type recorder struct {
	mu            sync.Mutex
	calls         []string
	fail          error
	failMigration error
}

func (r *recorder) Ensure(_ context.Context, t onboarding.Tenant, pool onboarding.Pool) error {
	return r.record("ensure " + t.ID + " on " + pool.Host)
}

func (r *recorder) Retire(_ context.Context, t onboarding.Tenant, _ onboarding.Pool, drop bool) error {
	if drop {
		return r.record("drop " + t.ID)
	}
	return r.record("disable " + t.ID)
}

func (r *recorder) Migrate(_ context.Context, t onboarding.Tenant, specs []migrations.Spec) error {
	if len(specs) == 0 {
		return nil
	}
	var services []string
	for _, s := range specs {
		services = append(services, s.Service)
	}
	r.mu.Lock()
	fail := r.failMigration
	r.mu.Unlock()
	if err := r.record("migrate " + t.ID + " with " + strings.Join(services, ", ")); err != nil {
		return err
	}
	return fail
}

func (r *recorder) record(call string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
	return r.fail
}

func (f *fixture) worker(p onboarding.Provisioner) *onboarding.Worker {
	return &onboarding.Worker{Registry: f.registry, Provisioner: p, MaxAttempts: 3, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

// work delivers every queued message to the worker.
func (f *fixture) work(w *onboarding.Worker) error {
	var errs []error
	for _, m := range f.messages() {
		errs = append(errs, w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{m}}))
	}
	return errors.Join(errs...)
}

func TestTheAPIRefusesWhatTheStackFileWouldRefuse(t *testing.T) {
	f := newFixture(t, roomyPools())
	cases := []struct {
		name, caller, method, path, body string
		status                           int
		says                             string
	}{
		{"an id with capitals", session, "POST", "/tenants", `{"id": "Acme", "plan": "free"}`, 400, `id: "Acme" must be lowercase letters`},
		{"an id with a double hyphen", session, "POST", "/tenants", `{"id": "a--b", "plan": "free"}`, 400, `id: "a--b"`},
		{"an id longer than the stack allows", session, "POST", "/tenants", `{"id": "a234567890123456789012345678901234567890x", "plan": "free"}`, 400, "at most 40"},
		{"a reserved name", session, "POST", "/tenants", `{"id": "public", "plan": "free"}`, 400, `id: "public"`},
		{"the master user's name", session, "POST", "/tenants", `{"id": "saas-admin", "plan": "free"}`, 400, "master user"},
		{"an unknown plan", session, "POST", "/tenants", `{"id": "hooli", "plan": "gold"}`, 400, `plan: "gold" must be one of basic, free`},
		{"a silo plan", session, "POST", "/tenants", `{"id": "hooli", "plan": "premium"}`, 422, "go run ./cmd/tenants --stack dev add hooli --plan premium"},
		{"an id of the stack file", session, "POST", "/tenants", `{"id": "acme", "plan": "free"}`, 409, "tenant of the stack file"},
		{"a key the API does not take", session, "POST", "/tenants", `{"id": "hooli", "plan": "free", "onRemove": "drop"}`, 400, "keys id and plan"},
		{"two objects", session, "POST", "/tenants", `{"id": "hooli", "plan": "free"} {}`, 400, "one JSON object"},
		{"a caller the stack does not name", intruder, "GET", "/tenants", "", 403, "may not call this API"},
		{"a request without an IAM identity", "", "GET", "/tenants", "", 403, "no IAM identity"},
		{"an unknown path", session, "GET", "/admin", "", 404, "no such path"},
		{"a method the path does not take", session, "PUT", "/tenants/hooli", "", 405, "GET and DELETE"},
		{"a drop of a tenant the stack file manages", session, "DELETE", "/tenants/acme", "", 409, "cmd/tenants --stack dev remove acme"},
		{"an unknown DELETE parameter", session, "DELETE", "/tenants/hooli", "", 400, "force is not a parameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var query map[string]string
			if c.says == "force is not a parameter" {
				query = map[string]string{"force": "true"}
			}
			status, body := f.call(c.caller, c.method, c.path, c.body, query)
			assert.Equal(t, c.status, status, body)
			assert.Contains(t, body["error"], c.says)
		})
	}
	tenants, err := f.registry.List(context.Background())
	require.NoError(t, err)
	assert.Empty(t, tenants, "no refused request leaves a tenant behind")
	assert.Empty(t, f.messages(), "nor a message")
}

func TestAPostRecordsACreatingTenantOnAPoolAndQueuesItsProvisioning(t *testing.T) {
	f := newFixture(t, roomyPools())
	status, body := f.post("hooli-xyz", "free")
	require.Equal(t, http.StatusAccepted, status, body)
	assert.Equal(t, "creating", body["status"])

	tenant, ok := f.tenant("hooli-xyz")
	require.True(t, ok)
	assert.Equal(t, "free", tenant.Plan)
	assert.Equal(t, "shared", tenant.Pool)
	assert.Equal(t, "hooli_xyz", tenant.Database, "named as a stack-file pool tenant's database")
	assert.Equal(t, 5, tenant.ConnectionLimit)
	assert.Equal(t, onboarding.ActionCreate, tenant.Pending)
	assert.Equal(t, session, tenant.RequestedBy, "the registry records who asked")
	assert.Equal(t, onboarding.Usage{Connections: 5, Databases: 1}, f.usage("shared"))

	msgs := f.messages()
	require.Len(t, msgs, 1)
	assert.JSONEq(t, `{"id": "hooli-xyz", "version": 1}`, msgs[0].Body)

	status, body = f.call(session, "GET", "/tenants/hooli-xyz", "", nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "creating", body["status"])
	status, body = f.call(session, "GET", "/tenants", "", nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Len(t, body["tenants"], 1)
	assert.Equal(t, []any{"acme", "globex"}, body["stackTenants"])
}

func TestTheSameRequestAgainIsAnsweredWithTheTenantAndAnotherPlanIsRefused(t *testing.T) {
	f := newFixture(t, roomyPools())
	status, _ := f.post("hooli", "free")
	require.Equal(t, http.StatusAccepted, status)
	status, body := f.post("hooli", "free")
	assert.Equal(t, http.StatusAccepted, status, "still creating: its message is queued again")
	assert.EqualValues(t, 1, body["version"])
	assert.Len(t, f.messages(), 2, "a lost first message cannot strand the tenant")

	status, body = f.post("hooli", "basic")
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body["error"], "already a run-time tenant on plan free")
	assert.Equal(t, onboarding.Usage{Connections: 5, Databases: 1}, f.usage("shared"), "counted once")
}

func TestConcurrentRequestsForOneIdCreateItOnce(t *testing.T) {
	f := newFixture(t, roomyPools())
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = f.post("initrode", "basic")
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		assert.Contains(t, []int{http.StatusAccepted, http.StatusConflict}, s)
	}
	assert.Equal(t, onboarding.Usage{Connections: 20, Databases: 1}, f.usage("shared"), "the conditional write lets one through")
}

func TestATenantNoPoolCanHoldIsRefusedWithTheNumbers(t *testing.T) {
	// Room for 12 more connections: two free tenants, not one basic one.
	f := newFixture(t, map[string]onboarding.Pool{
		"shared": {Host: "shared.example", Port: 5432, Class: "db.t4g.micro", Connections: 22, Databases: 1000, StackConnections: 10, StackDatabases: 2},
	})
	status, body := f.post("big", "basic")
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body["error"], "no pool has room for tenant big (20 connections)")
	assert.Contains(t, body["error"], "database.pools")

	// One after another: the registry's conditional transaction on the
	// pool's counter is what keeps concurrent requests from overfilling it
	// in DynamoDB, but moto does not serialise concurrent transactions, so
	// racing them here tested the emulator (it let three in, once, under load).
	statuses := make([]int, 4)
	for i := range statuses {
		statuses[i], _ = f.post("small-"+string(rune('a'+i)), "free")
	}
	created := 0
	for _, s := range statuses {
		if s == http.StatusAccepted {
			created++
		}
	}
	assert.Equal(t, []int{http.StatusAccepted, http.StatusAccepted, http.StatusConflict, http.StatusConflict}, statuses,
		"the pool takes two free tenants and refuses the rest")
	assert.Equal(t, 2, created)
	assert.Equal(t, onboarding.Usage{Connections: 10, Databases: 2}, f.usage("shared"))
}

func TestANewTenantGoesToThePoolWithTheMostRoom(t *testing.T) {
	f := newFixture(t, map[string]onboarding.Pool{
		"shared":  {Host: "shared.example", Port: 5432, Class: "db.t4g.micro", Connections: 80, Databases: 1000, StackConnections: 70, StackDatabases: 9},
		"pool-b2": {Host: "b2.example", Port: 5432, Class: "db.t4g.small", Connections: 180, Databases: 1000},
	})
	status, body := f.post("hooli", "basic")
	require.Equal(t, http.StatusAccepted, status, body)
	assert.Equal(t, "pool-b2", body["pool"])
}

func TestTheWorkerMakesTheTenantActiveAndIgnoresStaleMessages(t *testing.T) {
	f := newFixture(t, roomyPools())
	p := &recorder{}
	w := f.worker(p)
	_, _ = f.post("hooli", "free")
	_, _ = f.post("hooli", "free") // a repeated request: two messages, one version
	require.NoError(t, f.work(w))
	assert.Equal(t, []string{"ensure hooli on shared.example"}, p.calls, "the second message finds nothing pending")
	tenant, _ := f.tenant("hooli")
	assert.Equal(t, onboarding.StatusActive, tenant.Status)
	assert.Empty(t, tenant.Pending)

	status, body := f.post("hooli", "free")
	assert.Equal(t, http.StatusOK, status, "an active tenant asked for again is simply there")
	assert.Equal(t, "active", body["status"])
}

func TestAFailingAttemptIsRecordedAndTheLastOneMarksTheTenantFailed(t *testing.T) {
	f := newFixture(t, roomyPools())
	p := &recorder{fail: errors.New("connecting to shared.example: timeout")}
	w := f.worker(p)
	_, _ = f.post("hooli", "free")
	msg := f.messages()[0]

	// In order: a map's random order let the last attempt run first.
	for _, step := range []struct{ attempt, status string }{{"1", "creating"}, {"3", "failed"}} {
		msg.Attributes = map[string]string{"ApproximateReceiveCount": step.attempt}
		err := w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
		require.Error(t, err, "a failure goes back to the queue")
		tenant, _ := f.tenant("hooli")
		assert.Equal(t, step.status, tenant.Status, "attempt %s", step.attempt)
		assert.Contains(t, tenant.LastError, "timeout")
	}

	// Asking again after the cause is fixed brings it up.
	p.fail = nil
	status, body := f.post("hooli", "free")
	require.Equal(t, http.StatusAccepted, status, body)
	require.NoError(t, f.work(w))
	tenant, _ := f.tenant("hooli")
	assert.Equal(t, onboarding.StatusActive, tenant.Status)
	assert.Empty(t, tenant.LastError)
}

func TestDroppingATenantsDataTakesTwoRequests(t *testing.T) {
	f := newFixture(t, roomyPools())
	p := &recorder{}
	w := f.worker(p)
	_, _ = f.post("hooli", "free")
	require.NoError(t, f.work(w))
	drop := map[string]string{"dropData": "true"}

	status, body := f.call(session, "DELETE", "/tenants/hooli", "", drop)
	assert.Equal(t, http.StatusConflict, status, "an active tenant's data cannot be dropped in one request")
	assert.Contains(t, body["error"], "takes two requests")

	status, body = f.call(session, "DELETE", "/tenants/hooli", "", nil)
	require.Equal(t, http.StatusAccepted, status, body)
	assert.Equal(t, "disable", body["pending"])
	status, _ = f.call(session, "DELETE", "/tenants/hooli", "", drop)
	assert.Equal(t, http.StatusConflict, status, "nor before the first step is done")
	require.NoError(t, f.work(w))
	tenant, _ := f.tenant("hooli")
	assert.Equal(t, onboarding.StatusDisabled, tenant.Status)
	assert.Equal(t, onboarding.Usage{Connections: 5, Databases: 1}, f.usage("shared"), "a disabled tenant keeps its database, and its place")

	status, _ = f.call(session, "DELETE", "/tenants/hooli", "", nil)
	assert.Equal(t, http.StatusOK, status, "disabling twice is harmless")

	status, body = f.call(session, "DELETE", "/tenants/hooli", "", drop)
	require.Equal(t, http.StatusAccepted, status, body)
	require.NoError(t, f.work(w))
	assert.Equal(t, []string{"ensure hooli on shared.example", "disable hooli", "drop hooli"}, p.calls)
	_, ok := f.tenant("hooli")
	assert.False(t, ok, "a dropped tenant leaves the registry")
	assert.Equal(t, onboarding.Usage{}, f.usage("shared"), "and gives its place back")

	status, _ = f.call(session, "GET", "/tenants/hooli", "", nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = f.post("hooli", "basic")
	assert.Equal(t, http.StatusAccepted, status, "its id is free again")
}

func TestADisabledTenantComesBackWithItsData(t *testing.T) {
	f := newFixture(t, roomyPools())
	p := &recorder{}
	w := f.worker(p)
	_, _ = f.post("hooli", "free")
	require.NoError(t, f.work(w))
	_, _ = f.call(session, "DELETE", "/tenants/hooli", "", nil)
	require.NoError(t, f.work(w))

	status, body := f.post("hooli", "free")
	require.Equal(t, http.StatusAccepted, status, body)
	require.NoError(t, f.work(w))
	tenant, _ := f.tenant("hooli")
	assert.Equal(t, onboarding.StatusActive, tenant.Status)
	assert.Equal(t, []string{"ensure hooli on shared.example", "disable hooli", "ensure hooli on shared.example"}, p.calls)
	assert.Equal(t, onboarding.Usage{Connections: 5, Databases: 1}, f.usage("shared"), "counted once")
}

func TestOnlyTheNamedPrincipalsMayCall(t *testing.T) {
	allowed := []string{"arn:aws:iam::111122223333:role/ops/onboarding", "arn:aws:iam::111122223333:user/ci"}
	cases := []struct {
		caller string
		ok     bool
	}{
		{"arn:aws:sts::111122223333:assumed-role/onboarding/session-1", true},
		{"arn:aws:iam::111122223333:user/ci", true},
		{"arn:aws:sts::444455556666:assumed-role/onboarding/session-1", false},
		{"arn:aws:sts::111122223333:assumed-role/onboarding-admin/session-1", false},
		{"arn:aws:iam::111122223333:user/ci2", false},
		{"arn:aws:iam::111122223333:root", false},
		{"arn:aws-cn:sts::111122223333:assumed-role/onboarding/s", false},
		{"", false},
		{"not an arn", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.ok, onboarding.CallerAllowed(c.caller, allowed), c.caller)
	}
}

func migrationSpec(service string) migrations.Spec {
	return migrations.Spec{
		Service: service, Container: service, Command: []string{"npm", "run", "migrate"},
		Cluster:          "arn:aws:ecs:ap-northeast-1:123456789012:cluster/saas-platform-dev",
		TaskDefinition:   "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/saas-platform-dev-" + service + ":3",
		Subnets:          []string{"subnet-0a1b"},
		SecurityGroups:   []string{"sg-0c2d"},
		TaskRole:         "arn:aws:iam::123456789012:role/" + service + "-migration-1a2b3c4",
		CapacityProvider: "FARGATE",
	}
}

func TestARunTimeTenantIsActiveOnlyOnceEveryServiceMigratedIt(t *testing.T) {
	f := newFixture(t, roomyPools())
	facts, err := f.registry.Facts(context.Background())
	require.NoError(t, err)
	facts.Migrations = []migrations.Spec{migrationSpec("api"), migrationSpec("collaboration")}
	f.publish(facts)
	p := &recorder{failMigration: errors.New("the migration exited with code 1")}
	w := f.worker(p)
	_, _ = f.post("hooli", "free")
	msg := f.messages()[0]
	msg.Attributes = map[string]string{"ApproximateReceiveCount": "1"}
	require.Error(t, w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}}))
	tenant, _ := f.tenant("hooli")
	assert.Equal(t, onboarding.StatusCreating, tenant.Status, "not served before its schema is")
	assert.Contains(t, tenant.LastError, "exited with code 1")

	p.failMigration = nil
	msg.Attributes = map[string]string{"ApproximateReceiveCount": "2"}
	require.NoError(t, w.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}}))
	tenant, _ = f.tenant("hooli")
	assert.Equal(t, onboarding.StatusActive, tenant.Status)
	assert.Equal(t, []string{
		"ensure hooli on shared.example", "migrate hooli with api, collaboration",
		"ensure hooli on shared.example", "migrate hooli with api, collaboration",
	}, p.calls, "the database first, then every service's migration, again on a retry")
}

type runs struct {
	specs   []string
	tenants [][]migrations.Tenant
	fail    error
}

func (r *runs) Run(_ context.Context, spec migrations.Spec, tenants []migrations.Tenant) ([]string, error) {
	r.specs = append(r.specs, spec.Service)
	r.tenants = append(r.tenants, tenants)
	return nil, r.fail
}

func TestTheWorkerMigratesWithTheTenantsOwnSecretAndStopsAtTheFirstFailure(t *testing.T) {
	r := &runs{}
	p := &onboarding.TenantDB{Layout: tenantdb.Layout{PathPrefix: "/saas-platform/dev"}, Migrations: r}
	hooli := onboarding.Tenant{ID: "hooli"}
	require.NoError(t, p.Migrate(context.Background(), hooli, []migrations.Spec{migrationSpec("api"), migrationSpec("collaboration")}))
	assert.Equal(t, []string{"api", "collaboration"}, r.specs)
	for _, ts := range r.tenants {
		assert.Equal(t, []migrations.Tenant{{ID: "hooli", SecretID: "saas-platform/dev/tenants/hooli/database"}}, ts)
	}

	r = &runs{fail: errors.New("tenant hooli: the migration exited with code 2")}
	p.Migrations = r
	err := p.Migrate(context.Background(), hooli, []migrations.Spec{migrationSpec("api"), migrationSpec("collaboration")})
	require.ErrorContains(t, err, "exited with code 2")
	assert.Equal(t, []string{"api"}, r.specs, "collaboration is not migrated against a schema api failed to bring up")

	hostile := migrationSpec("api")
	hostile.TaskRole = "*"
	r = &runs{}
	p.Migrations = r
	require.Error(t, p.Migrate(context.Background(), hooli, []migrations.Spec{hostile}), "a spec the runner would refuse is refused before any task")
	assert.Empty(t, r.specs)
}

func TestTheRunnerMigratesTheRegistrysActiveTenants(t *testing.T) {
	f := newFixture(t, roomyPools())
	w := f.worker(&recorder{})
	for _, id := range []string{"hooli", "wayne"} {
		_, _ = f.post(id, "free")
	}
	require.NoError(t, f.work(w))
	status, body := f.call(session, http.MethodDelete, "/tenants/wayne", "", nil)
	require.Equal(t, http.StatusAccepted, status, body)
	require.NoError(t, f.work(w))

	source := onboarding.MigrationTenants{Registry: f.registry, Layout: tenantdb.Layout{PathPrefix: "/saas-platform/dev"}}
	got, err := source.MigrationTenants(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []migrations.Tenant{{ID: "hooli", SecretID: "saas-platform/dev/tenants/hooli/database"}}, got,
		"active tenants only: a disabled one's login is off, and it is migrated when it comes back")

	missing := onboarding.MigrationTenants{Registry: &onboarding.Registry{DB: f.db, Table: "no-such-table-" + suffix()}}
	got, err = missing.MigrationTenants(context.Background())
	require.NoError(t, err, "the first deployment migrates before the registry exists: it holds nobody yet")
	assert.Empty(t, got)
}
