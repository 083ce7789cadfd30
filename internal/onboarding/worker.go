package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/saas-platform/saas-platform/internal/migrations"
)

// Provisioner does the work on PostgreSQL, Secrets Manager and SSM, as the
// stack's provisioner does it for stack-file pool tenants.
type Provisioner interface {
	// Ensure creates the tenant's database, login, secret and parameters,
	// or brings them back (login enabled) when they exist.
	Ensure(ctx context.Context, t Tenant, pool Pool) error
	// Retire disables the tenant's login and keeps its data, or with drop
	// removes the database, login, secret and parameters.
	Retire(ctx context.Context, t Tenant, pool Pool, drop bool) error
	// Migrate runs each service's migrate command for the tenant, as the
	// deployment does for a stack-file tenant.
	Migrate(ctx context.Context, t Tenant, specs []migrations.Spec) error
}

// Worker applies the requests the API queued. Each message names a tenant
// and the request's version; the registry says what to do, so a repeated
// or stale message does nothing, and every action is idempotent.
type Worker struct {
	Registry    *Registry
	Provisioner Provisioner
	// MaxAttempts is the queue's maxReceiveCount: the attempt that fails
	// for the last time marks the tenant failed before the message goes to
	// the dead-letter queue.
	MaxAttempts int
	Log         *slog.Logger
	Now         func() time.Time
}

// Handle processes a batch of queue messages. The event source mapping
// sends one at a time; a failure returns an error so SQS retries it.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) error {
	var errs []error
	for _, record := range ev.Records {
		attempt, _ := strconv.Atoi(record.Attributes["ApproximateReceiveCount"])
		if err := w.process(ctx, record.Body, attempt); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *Worker) process(ctx context.Context, body string, attempt int) error {
	var m Message
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.ID == "" {
		// Nothing can make a malformed message valid: drop it, loudly.
		w.log().Error("malformed message dropped", "body", body)
		return nil
	}
	started := w.now()
	t, found, err := w.Registry.Get(ctx, m.ID)
	if err != nil {
		return err
	}
	if !found || t.Version != m.Version || t.Pending == "" {
		w.log().Info("nothing to do", "tenant", m.ID, "version", m.Version)
		return nil
	}
	err = w.apply(ctx, t)
	log := w.log().With("tenant", t.ID, "action", t.Pending, "version", t.Version, "attempt", attempt,
		"durationMs", w.now().Sub(started).Milliseconds(), "requestedBy", t.RequestedBy)
	if err == nil {
		log.Info("done")
		return nil
	}
	if errors.Is(err, ErrChanged) {
		// A newer request took over; its own message will do the work.
		log.Info("superseded")
		return nil
	}
	final := w.MaxAttempts > 0 && attempt >= w.MaxAttempts
	log.Error("failed", "error", err.Error(), "final", final)
	if recordErr := w.Registry.Fail(ctx, t, err.Error(), final, w.stamp()); recordErr != nil && !errors.Is(recordErr, ErrChanged) {
		log.Error("recording the failure", "error", recordErr.Error())
	}
	return fmt.Errorf("tenant %s: %s: %w", t.ID, t.Pending, err)
}

func (w *Worker) apply(ctx context.Context, t Tenant) error {
	facts, err := w.Registry.Facts(ctx)
	if err != nil {
		return err
	}
	pool, ok := facts.Pools[t.Pool]
	if !ok {
		return fmt.Errorf("pool %s is not in the stack any more", t.Pool)
	}
	switch t.Pending {
	case ActionCreate:
		if err := w.Provisioner.Ensure(ctx, t, pool); err != nil {
			return err
		}
		// Active means served: its schema first. A failed migration is a
		// failed attempt, retried like any other.
		if err := w.Provisioner.Migrate(ctx, t, facts.Migrations); err != nil {
			return err
		}
		return w.Registry.Complete(ctx, t, StatusActive, w.stamp())
	case ActionDisable:
		if err := w.Provisioner.Retire(ctx, t, pool, false); err != nil {
			return err
		}
		return w.Registry.Complete(ctx, t, StatusDisabled, w.stamp())
	case ActionDrop:
		if err := w.Provisioner.Retire(ctx, t, pool, true); err != nil {
			return err
		}
		return w.Registry.Remove(ctx, t)
	default:
		return fmt.Errorf("unknown pending action %q", t.Pending)
	}
}

func (w *Worker) stamp() string { return w.now().UTC().Format(time.RFC3339Nano) }

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}
