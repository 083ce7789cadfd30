package onboarding

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// QueueAPI is the part of SQS the API uses.
type QueueAPI interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Rules are the stack file's own rules, which the API applies as they are
// (one implementation each, shared with the program and the tenants
// command).
type Rules struct {
	// TenantID refuses an id the stack file would refuse (maxLength is the
	// stack's own bound), saying what is allowed.
	TenantID func(id string, maxLength int) error
	// Place chooses the pool a new tenant goes to, from the published
	// pools and what run-time tenants hold of them, and returns that pool's
	// whole allowance for run-time tenants (the registry checks its counter
	// against it); a *NoRoomError when none can hold it.
	Place func(id string, needs Usage, pools map[string]Pool, used map[string]Usage) (string, Usage, error)
}

// API answers the onboarding requests that reach the function URL.
type API struct {
	Registry *Registry
	Queue    QueueAPI
	QueueURL string
	// Callers are the IAM principals (role and user ARNs) the stack allows.
	Callers []string
	// Stack names the stack in messages that point to the tenants command.
	Stack string
	Rules Rules
	Log   *slog.Logger
	Now   func() time.Time
}

// response is one HTTP answer; Body is marshalled as JSON.
type response struct {
	status int
	body   any
}

type errorBody struct {
	Error string `json:"error"`
}

func refusal(status int, format string, a ...any) response {
	return response{status: status, body: errorBody{Error: fmt.Sprintf(format, a...)}}
}

// request is what POST /tenants takes.
type request struct {
	ID   string `json:"id"`
	Plan string `json:"plan"`
}

// Handle answers one function URL request and logs it with its caller.
func (a *API) Handle(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	started := a.now()
	caller := ""
	if auth := req.RequestContext.Authorizer; auth != nil && auth.IAM != nil {
		caller = auth.IAM.UserARN
	}
	method, path := req.RequestContext.HTTP.Method, req.RawPath
	var res response
	switch {
	case caller == "":
		// Only a function URL with AWS_IAM fills the caller in.
		res = refusal(http.StatusForbidden, "the request carries no IAM identity: sign it with SigV4 (service lambda)")
	case !CallerAllowed(caller, a.Callers):
		res = refusal(http.StatusForbidden, "%s may not call this API: the stack's saas-platform:onboarding.callers do not name it", caller)
	default:
		res = a.route(ctx, method, path, req, caller)
	}
	body, _ := json.Marshal(res.body)
	a.log().Info("request",
		"method", method, "path", path, "caller", caller,
		"sourceIp", req.RequestContext.HTTP.SourceIP, "requestId", req.RequestContext.RequestID,
		"status", res.status, "durationMs", a.now().Sub(started).Milliseconds(),
		"error", errorText(res.body))
	return events.LambdaFunctionURLResponse{
		StatusCode: res.status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}, nil
}

func errorText(body any) string {
	if e, ok := body.(errorBody); ok {
		return e.Error
	}
	return ""
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *API) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

func (a *API) route(ctx context.Context, method, path string, req events.LambdaFunctionURLRequest, caller string) response {
	const collection = "/tenants"
	id, item := strings.CutPrefix(path, collection+"/")
	switch {
	case path == collection && method == http.MethodPost:
		return a.create(ctx, req, caller)
	case path == collection && method == http.MethodGet:
		return a.list(ctx)
	case item && id != "" && !strings.Contains(id, "/") && method == http.MethodGet:
		return a.get(ctx, id)
	case item && id != "" && !strings.Contains(id, "/") && method == http.MethodDelete:
		return a.remove(ctx, id, req.QueryStringParameters, caller)
	case path == collection || (item && id != ""):
		return refusal(http.StatusMethodNotAllowed, "%s %s: this path takes %s", method, path, allowedMethods(path == collection))
	default:
		return refusal(http.StatusNotFound, "no such path %s: the API serves /tenants and /tenants/{id}", path)
	}
}

func allowedMethods(collection bool) string {
	if collection {
		return "GET and POST"
	}
	return "GET and DELETE"
}

func (a *API) create(ctx context.Context, req events.LambdaFunctionURLRequest, caller string) response {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		return refusal(http.StatusBadRequest, "the body must be JSON text: {\"id\": \"...\", \"plan\": \"...\"}")
	}
	var r request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || dec.More() {
		return refusal(http.StatusBadRequest, "the body must be one JSON object with the keys id and plan, such as {\"id\": \"acme\", \"plan\": \"free\"}")
	}
	facts, err := a.Registry.Facts(ctx)
	if err != nil {
		return a.failure(err)
	}
	if err := a.Rules.TenantID(r.ID, facts.MaxIDLength); err != nil {
		return refusal(http.StatusBadRequest, "id: %q %v", r.ID, err)
	}
	plan, known := facts.Plans[r.Plan]
	switch {
	case !known:
		return refusal(http.StatusBadRequest, "plan: %q must be one of %s", r.Plan, strings.Join(facts.PoolPlans(), ", "))
	case plan.Isolation != IsolationPool:
		return refusal(http.StatusUnprocessableEntity,
			"plan: %q is a silo plan (a dedicated RDS instance): silo tenants are added through the stack file, reviewed: "+
				"go run ./cmd/tenants --stack %s add %s --plan %s. The API onboards the pool plans: %s",
			r.Plan, a.Stack, r.ID, r.Plan, strings.Join(facts.PoolPlans(), ", "))
	case facts.HasTenant(r.ID):
		return refusal(http.StatusConflict, "id: %q is a tenant of the stack file: tenant ids are unique across the stack file and the registry", r.ID)
	}

	existing, found, err := a.Registry.Get(ctx, r.ID)
	if err != nil {
		return a.failure(err)
	}
	if found {
		return a.recreate(ctx, existing, r.Plan, caller)
	}

	pools := make([]string, 0, len(facts.Pools))
	for name := range facts.Pools {
		pools = append(pools, name)
	}
	used, err := a.Registry.Usage(ctx, pools)
	if err != nil {
		return a.failure(err)
	}
	needs := Usage{Connections: plan.ConnectionLimit, Databases: 1}
	pool, allowance, err := a.Rules.Place(r.ID, needs, facts.Pools, used)
	var full *NoRoomError
	if errors.As(err, &full) {
		return refusal(http.StatusConflict, "%v", full)
	}
	if err != nil {
		return a.failure(err)
	}
	now := a.now().UTC().Format(time.RFC3339Nano)
	t := Tenant{
		ID: r.ID, Plan: r.Plan, Pool: pool, Status: StatusCreating, Pending: ActionCreate,
		ConnectionLimit: plan.ConnectionLimit, Database: DatabaseName(r.ID),
		Version: 1, CreatedAt: now, UpdatedAt: now, RequestedBy: caller,
	}
	switch err := a.Registry.Create(ctx, t, allowance); {
	case errors.Is(err, ErrExists):
		return refusal(http.StatusConflict, "id: %q was taken by a request that came first", r.ID)
	case errors.Is(err, ErrNoRoom):
		return refusal(http.StatusConflict, "pool %s filled up while the request was handled: try again, another pool may have room", pool)
	case err != nil:
		return a.failure(err)
	}
	return a.queued(ctx, t)
}

// recreate answers a POST for an id the registry holds: the same request
// again is answered with the tenant as it is (its pending work queued
// again, in case the first message was lost); a disabled or failed tenant
// is brought back with its data, as re-adding a stack-file tenant does.
func (a *API) recreate(ctx context.Context, t Tenant, plan, caller string) response {
	if t.Plan != plan {
		return refusal(http.StatusConflict, "id: %q is already a run-time tenant on plan %s: ids are unique", t.ID, t.Plan)
	}
	switch {
	case t.Pending == ActionCreate:
		return a.queued(ctx, t)
	case t.Pending == "" && t.Status == StatusActive:
		return response{status: http.StatusOK, body: t}
	case t.Pending == "" && (t.Status == StatusDisabled || t.Status == StatusFailed):
	case t.Status == StatusFailed:
		// A failed drop or disable: creating again takes over.
	default:
		return refusal(http.StatusConflict, "tenant %s is being %s: wait until it is done (GET /tenants/%s)", t.ID, progressive(t.Pending), t.ID)
	}
	changed, err := a.Registry.Change(ctx, t, StatusCreating, ActionCreate, caller, a.now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return a.changeFailure(t.ID, err)
	}
	return a.queued(ctx, changed)
}

func progressive(action string) string {
	return map[string]string{ActionCreate: "created", ActionDisable: "disabled", ActionDrop: "dropped"}[action]
}

// queued sends the worker its message and answers 202 with the tenant.
func (a *API) queued(ctx context.Context, t Tenant) response {
	body, _ := json.Marshal(Message{ID: t.ID, Version: t.Version})
	if _, err := a.Queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(a.QueueURL), MessageBody: aws.String(string(body)),
	}); err != nil {
		// The registry holds the request: the same request again queues it.
		return a.failure(fmt.Errorf("queueing tenant %s (the request is recorded: send it again to queue it): %w", t.ID, err))
	}
	return response{status: http.StatusAccepted, body: t}
}

func (a *API) list(ctx context.Context) response {
	facts, err := a.Registry.Facts(ctx)
	if err != nil {
		return a.failure(err)
	}
	tenants, err := a.Registry.List(ctx)
	if err != nil {
		return a.failure(err)
	}
	if tenants == nil {
		tenants = []Tenant{}
	}
	stack := append([]string{}, facts.Tenants...)
	sort.Strings(stack)
	return response{status: http.StatusOK, body: map[string]any{"tenants": tenants, "stackTenants": stack}}
}

func (a *API) get(ctx context.Context, id string) response {
	t, found, err := a.Registry.Get(ctx, id)
	if err != nil {
		return a.failure(err)
	}
	if !found {
		return a.notFound(ctx, id)
	}
	return response{status: http.StatusOK, body: t}
}

func (a *API) notFound(ctx context.Context, id string) response {
	if facts, err := a.Registry.Facts(ctx); err == nil && facts.HasTenant(id) {
		return refusal(http.StatusNotFound, "tenant %s is a tenant of the stack file, not of the registry: see go run ./cmd/tenants --stack %s list", id, a.Stack)
	}
	return refusal(http.StatusNotFound, "no run-time tenant %s", id)
}

// remove is the two-step removal: DELETE disables the tenant's login and
// keeps its data; once that is done, DELETE with dropData=true drops the
// database, its login, secret and parameters, and frees the id.
func (a *API) remove(ctx context.Context, id string, query map[string]string, caller string) response {
	drop := false
	for k, v := range query {
		switch {
		case k == "dropData" && (v == "true" || v == "false"):
			drop = v == "true"
		case k == "dropData":
			return refusal(http.StatusBadRequest, "dropData: %q must be true or false", v)
		default:
			return refusal(http.StatusBadRequest, "%s is not a parameter of DELETE: it takes only dropData=true", k)
		}
	}
	facts, err := a.Registry.Facts(ctx)
	if err != nil {
		return a.failure(err)
	}
	if facts.HasTenant(id) {
		return refusal(http.StatusConflict, "tenant %s is managed by the stack file: remove it with go run ./cmd/tenants --stack %s remove %s", id, a.Stack, id)
	}
	t, found, err := a.Registry.Get(ctx, id)
	if err != nil {
		return a.failure(err)
	}
	if !found {
		return a.notFound(ctx, id)
	}
	now := a.now().UTC().Format(time.RFC3339Nano)
	if !drop {
		switch {
		case t.Pending == ActionDisable:
			return a.queued(ctx, t)
		case t.Pending == "" && t.Status == StatusDisabled:
			return response{status: http.StatusOK, body: t}
		case t.Pending == ActionDrop:
			return refusal(http.StatusConflict, "tenant %s is being dropped", id)
		}
		changed, err := a.Registry.Change(ctx, t, t.Status, ActionDisable, caller, now)
		if err != nil {
			return a.changeFailure(id, err)
		}
		return a.queued(ctx, changed)
	}
	switch {
	case t.Pending == ActionDrop:
		return a.queued(ctx, t)
	case t.Status != StatusDisabled || t.Pending != "":
		return refusal(http.StatusConflict,
			"tenant %s is %s: dropping its data takes two requests: DELETE /tenants/%s disables it and keeps its data; "+
				"once its status is disabled, DELETE /tenants/%s?dropData=true drops the data", id, describe(t), id, id)
	}
	changed, err := a.Registry.Change(ctx, t, StatusDisabled, ActionDrop, caller, now)
	if err != nil {
		return a.changeFailure(id, err)
	}
	return a.queued(ctx, changed)
}

func describe(t Tenant) string {
	if t.Pending != "" {
		return t.Status + ", being " + progressive(t.Pending)
	}
	return t.Status
}

func (a *API) changeFailure(id string, err error) response {
	if errors.Is(err, ErrChanged) {
		return refusal(http.StatusConflict, "tenant %s changed while the request was handled: read it again (GET /tenants/%s) and retry", id, id)
	}
	return a.failure(err)
}

// failure answers an internal error; the log has the detail.
func (a *API) failure(err error) response {
	return refusal(http.StatusInternalServerError, "%v", err)
}

func sortTenants(ts []Tenant) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
}
