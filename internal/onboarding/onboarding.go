// Package onboarding is the run-time onboarding of pool tenants: an API
// behind a Lambda function URL (IAM-authenticated) records a tenant in the
// registry table and queues its provisioning; a worker, fed by the queue,
// provisions it with the stack's own provisioner code (internal/tenantdb),
// so a run-time tenant gets the same database, login role, secret and SSM
// parameters as a stack-file pool tenant. Silo tenants stay in the stack
// file. It runs inside Lambda: it must not import the Pulumi SDK.
package onboarding

import (
	"errors"
	"github.com/saas-platform/saas-platform/internal/migrations"
	"sort"

	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// A tenant's status in the registry.
const (
	StatusCreating = "creating" // queued or being provisioned
	StatusActive   = "active"   // its login works
	StatusFailed   = "failed"   // provisioning gave up; the dead-letter queue holds the request
	StatusDisabled = "disabled" // login disabled, data kept
)

// What the worker is asked to do next; empty once it is done.
const (
	ActionCreate  = "create"
	ActionDisable = "disable"
	ActionDrop    = "drop"
)

// Isolation models, as the program's plan table names them.
const (
	IsolationPool = "pool"
	IsolationSilo = "silo"
)

// Tenant is one run-time tenant's registry item.
type Tenant struct {
	ID     string `json:"id" dynamodbav:"id"`
	Plan   string `json:"plan" dynamodbav:"plan"`
	Pool   string `json:"pool" dynamodbav:"pool"`
	Status string `json:"status" dynamodbav:"status"`
	// Pending is the request the worker has not finished yet.
	Pending string `json:"pending,omitempty" dynamodbav:"pending,omitempty"`
	// ConnectionLimit is the plan's limit when the tenant was created: what
	// it holds of its pool's connections.
	ConnectionLimit int    `json:"connectionLimit" dynamodbav:"connectionLimit"`
	Database        string `json:"database" dynamodbav:"database"`
	// Version counts requests: the worker applies a message only to the
	// version it was sent for, so a stale or repeated message does nothing.
	Version     int64  `json:"version" dynamodbav:"version"`
	CreatedAt   string `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt   string `json:"updatedAt" dynamodbav:"updatedAt"`
	LastError   string `json:"lastError,omitempty" dynamodbav:"lastError,omitempty"`
	RequestedBy string `json:"requestedBy,omitempty" dynamodbav:"requestedBy,omitempty"`
}

// Plan is what the API needs of a plan: where its tenants live and, for
// pool plans, their connection limit. The deployment publishes the
// program's plan table; the API keeps no copy of its own.
type Plan struct {
	Isolation       string `json:"isolation"`
	ConnectionLimit int    `json:"connectionLimit"`
}

// Pool is one PostgreSQL instance that holds pool tenants, as the
// deployment published it: where it is, what the capacity rule allows its
// tenants, and what the stack file's tenants already take of that.
type Pool struct {
	Host            string `json:"host"`
	Port            int    `json:"port"`
	MasterSecretArn string `json:"masterSecretArn"`
	Class           string `json:"class"`
	// Connections and Databases are what the capacity rule allows all of
	// the pool's tenants together.
	Connections int `json:"connections"`
	Databases   int `json:"databases"`
	// StackConnections and StackDatabases are what the stack file's
	// tenants on this pool take.
	StackConnections int `json:"stackConnections"`
	StackDatabases   int `json:"stackDatabases"`
}

// Room is what a pool has left for run-time tenants, given what they
// already hold (used).
func (p Pool) Room(used Usage) Usage {
	return Usage{
		Connections: p.Connections - p.StackConnections - used.Connections,
		Databases:   p.Databases - p.StackDatabases - used.Databases,
	}
}

// Usage is what run-time tenants hold of a pool.
type Usage struct {
	Connections int `json:"connections" dynamodbav:"connections"`
	Databases   int `json:"databases" dynamodbav:"databases"`
}

// StackFacts is what each deployment publishes for the API: the stack
// file's tenant ids, the plan table and the pools.
type StackFacts struct {
	Stack   string          `json:"stack"`
	Tenants []string        `json:"tenants"`
	Plans   map[string]Plan `json:"plans"`
	Pools   map[string]Pool `json:"pools"`
	// MaxIDLength is the longest tenant id the stack file accepts.
	MaxIDLength int `json:"maxIdLength"`
	// Migrations are the services' migrate commands, with the tasks the
	// deployment last rolled out: the worker runs each for a tenant it
	// creates, before the tenant is active.
	Migrations []migrations.Spec `json:"migrations,omitempty"`
}

// HasTenant reports whether the stack file lists the id.
func (f StackFacts) HasTenant(id string) bool {
	for _, t := range f.Tenants {
		if t == id {
			return true
		}
	}
	return false
}

// PoolPlans lists the plans the API onboards, sorted.
func (f StackFacts) PoolPlans() []string {
	var names []string
	for name, p := range f.Plans {
		if p.Isolation == IsolationPool {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Message is what the API queues for the worker: the tenant and the
// request's version. The registry item says what to do.
type Message struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

// Errors the registry reports for refused writes.
var (
	// ErrExists: the id is taken (a conditional write lost).
	ErrExists = errors.New("the tenant id is already in the registry")
	// ErrChanged: another request changed the tenant first.
	ErrChanged = errors.New("the tenant changed while the request was handled")
	// ErrNoRoom: the pool filled up between the check and the write.
	ErrNoRoom = errors.New("the pool has no room left")
)

// NoRoomError says that no pool can hold a tenant, with the capacity
// rule's numbers and what to do.
type NoRoomError struct{ Reason string }

func (e *NoRoomError) Error() string { return e.Reason }

// DatabaseName is a pool tenant's database and login role name, as the
// stack file's pool tenants get it.
func DatabaseName(id string) string { return tenantid.Database(id) }
