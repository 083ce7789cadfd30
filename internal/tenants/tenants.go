// Package tenants is the tenant lifecycle from the command line: it adds a
// tenant to a stack file, changes its plan or removes it, in place (comments,
// blank lines and order kept), checks the result as the program itself
// would, and shows what the change creates, replaces and deletes. It is what
// an onboarding pipeline or an admin runs before opening the pull request.
package tenants

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/saas-platform/saas-platform/components/platform"
	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/pgcapacity"
	"github.com/saas-platform/saas-platform/internal/plan"
	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// CostFunc estimates the monthly cost of a plan, in US dollars. When one is
// given, the command prints the difference a change makes.
type CostFunc func(*plan.Result) (float64, error)

// Options say which stack file to edit and how.
type Options struct {
	ProjectDir string // holds Pulumi.yaml
	File       string // the stack file
	Stack      string
	// Previous are the outputs of the stack's last deployment (`pulumi stack
	// output --json`, or a JSON plan's), nil when not given: changes are then
	// checked against the stack file as it stands.
	Previous map[string]any
	DryRun   bool     // print, do not write
	Cost     CostFunc // nil: no cost estimate
	// Registry opens the stack's registry of run-time tenants; nil: list
	// shows the stack file's tenants only.
	Registry RegistryOpener
}

// Refusal is a change the program would refuse, or one that would lose data
// nobody asked to lose. Its message names the tenant.
type Refusal struct{ Message string }

func (r *Refusal) Error() string { return r.Message }

func refuse(format string, args ...any) error {
	return &Refusal{Message: fmt.Sprintf(format, args...)}
}

// session is one command on one stack file.
type session struct {
	opts    Options
	out     io.Writer
	project string
	file    *stackFile
	current *config.Stack
}

// open reads the stack file; what names the command in its refusals.
func open(opts Options, out io.Writer, what string) (*session, error) {
	project, err := plan.ProjectName(opts.ProjectDir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(opts.File)
	if err != nil {
		return nil, fmt.Errorf("reading the stack file: %w", err)
	}
	f, err := parseStackFile(data, filepath.Base(opts.File), project)
	if err != nil {
		return nil, err
	}
	s := &session{opts: opts, out: out, project: project, file: f}
	if s.current, err = s.parse(data); err != nil {
		return nil, refuse("cannot %s: %s is invalid as it stands; fix it first:\n%v", what, f.name, err)
	}
	return s, nil
}

// stackValues reads stack file content as the engine would hand it over.
func (s *session) stackValues(data []byte) (*config.StackFile, error) {
	sf, err := config.ParseStackFile(data, s.file.name, s.project)
	if err != nil {
		return nil, err
	}
	// As the plan command does: the environment's region, else a default.
	if sf.Values[config.KeyRegion] == "" {
		sf.Values[config.KeyRegion] = config.RegionFromEnvironment()
	}
	if sf.Values[config.KeyRegion] == "" {
		sf.Values[config.KeyRegion] = plan.DefaultRegion
	}
	return sf, nil
}

func (s *session) parse(data []byte) (*config.Stack, error) {
	sf, err := s.stackValues(data)
	if err != nil {
		return nil, err
	}
	return config.ParseSecret(s.project, s.opts.Stack, sf.Values, sf.SecretKeys)
}

// deployed is what changes are checked against: the last deployment's
// outputs when given, else the stack file as it stands, which is what the
// last deployment of its branch applied.
func (s *session) deployed() (*config.Deployed, string, error) {
	if s.opts.Previous != nil {
		d, err := config.DeployedFrom(s.opts.Previous[platform.OutputTenants], s.opts.Previous[platform.OutputCacheClusterMode],
			s.opts.Previous[platform.OutputCacheMode])
		return d, "the previous deployment", err
	}
	d := &config.Deployed{Tenants: map[string]config.DeployedTenant{}}
	for _, t := range s.current.Tenants {
		d.Tenants[t.ID] = config.DeployedTenant{
			Plan: t.Plan.Name, Isolation: t.Plan.Isolation, AllocatedStorage: t.Database.AllocatedStorage, OnRemove: t.OnRemove, Pool: t.Pool,
		}
	}
	mode := s.current.Cache.ClusterMode
	d.CacheClusterMode, d.CacheMode = &mode, s.current.Cache.Mode
	return d, s.file.name + " as it stands; pass --previous to check against the deployment", nil
}

// apply checks the edited file as the program would, prints what it changes
// and writes it. verb and id name the change in every refusal; intro says
// what the change is, once it passed the checks.
func (s *session) apply(verb, id string, after []byte, want []entry, intro string, notes []string) error {
	if err := s.file.checkEdit(after, want); err != nil {
		return refuse("cannot %s tenant %s: %v", verb, id, err)
	}
	cfg, err := s.parse(after)
	if err != nil {
		return refuse("cannot %s tenant %s: %v", verb, id, err)
	}
	deployed, against, err := s.deployed()
	if err != nil {
		return err
	}
	if err := config.CheckTransitions(cfg, deployed); err != nil {
		return refuse("cannot %s tenant %s: %v\n(checked against %s)", verb, id, err, against)
	}

	beforeValues, err := s.stackValues(s.file.bytes())
	if err != nil {
		return err
	}
	afterValues, err := s.stackValues(after)
	if err != nil {
		return err
	}
	before, err := plan.Run(s.project, s.opts.Stack, beforeValues, nil)
	if err != nil {
		return fmt.Errorf("planning %s as it stands: %w", s.file.name, err)
	}
	result, err := plan.Run(s.project, s.opts.Stack, afterValues, s.opts.Previous)
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return refuse("cannot %s tenant %s: %v", verb, id, err)
	}
	if err != nil {
		return fmt.Errorf("planning the change to tenant %s: %w", id, err)
	}

	fmt.Fprintln(s.out, intro)
	writeChanges(s.out, Diff(before, result))
	if s.opts.Cost != nil {
		if err := s.writeCost(before, result); err != nil {
			return err
		}
	}
	for _, n := range notes {
		fmt.Fprintln(s.out, n)
	}
	if s.opts.DryRun {
		fmt.Fprintf(s.out, "Dry run: %s is unchanged.\n", s.file.name)
		return nil
	}
	if err := writeFile(s.opts.File, after); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Wrote %s. Open a pull request: its preview shows the change against the deployed stack.\n", s.file.name)
	return nil
}

func (s *session) writeCost(before, after *plan.Result) error {
	from, err := s.opts.Cost(before)
	if err != nil {
		return fmt.Errorf("estimating the cost before the change: %w", err)
	}
	to, err := s.opts.Cost(after)
	if err != nil {
		return fmt.Errorf("estimating the cost after the change: %w", err)
	}
	fmt.Fprintf(s.out, "Monthly cost: %+.2f USD (%.2f -> %.2f)\n", to-from, from, to)
	return nil
}

// writeFile replaces the file in one rename, so that an interrupted run
// never leaves half a stack file; the file keeps its permissions.
func writeFile(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tenants-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// Add adds a tenant on a plan.
func Add(opts Options, out io.Writer, id, planName string) error {
	if err := checkArguments("add", id, &planName); err != nil {
		return err
	}
	s, err := open(opts, out, "add tenant "+id)
	if err != nil {
		return err
	}
	if e, ok := s.file.find(id); ok {
		return refuse("cannot add tenant %s: %s already lists it, on plan %s (use set-plan to change its plan)", id, s.file.name, e.Plan)
	}
	if err := s.notRunTime(id); err != nil {
		return err
	}
	pool, where, err := s.place(id, planName)
	if err != nil {
		return err
	}
	after, err := s.file.add(id, planName, pool)
	if err != nil {
		return err
	}
	want := append(slices.Clone(s.file.entries), entry{ID: id, Plan: planName, Pool: pool})
	return s.apply("add", id, after, want, fmt.Sprintf("Adding tenant %s to stack %s on plan %s%s.", id, opts.Stack, planName, where), nil)
}

// place chooses a new pool tenant's pool, by the capacity rule the program
// checks: the one with the most connection room. It returns "" for a silo
// plan (or a plan the program will refuse), and says where the tenant goes.
func (s *session) place(id, planName string) (string, string, error) {
	p, ok := config.LookupPlan(planName)
	if !ok || p.Isolation != config.Pool {
		return "", "", nil
	}
	if deployed, known := s.deployedOnRemove(id); known && deployed.Pool != "" {
		// A tenant removed but still deployed, or whose data was kept, comes
		// back where its database is: placement is stable.
		return deployed.Pool, fmt.Sprintf(", in pool %s, where the previous deployment has its database", deployed.Pool), nil
	}
	loads, err := s.current.PoolLoads()
	if err != nil {
		return "", "", refuse("cannot add tenant %s: %v", id, err)
	}
	pool, err := pgcapacity.Place(loads, pgcapacity.Tenant{ID: id, ConnectionLimit: p.ConnectionLimit})
	if err != nil {
		return "", "", refuse("cannot add tenant %s: %v", id, err)
	}
	for _, l := range loads {
		if l.Instance == pool {
			return pool, fmt.Sprintf(", in pool %s (%s), the one with the most room: %d of %d connections and %d of %d databases free before it",
				pool, config.PoolIdentifier(s.project, s.opts.Stack, pool), l.ConnectionRoom(), l.ConnectionsAllowed, l.DatabaseRoom(), l.DatabasesAllowed), nil
		}
	}
	return pool, "", nil
}

// checkArguments refuses, before the stack file is even read, an id or a
// plan the stack file itself would refuse: every argument is checked by the
// rule the program applies to the file (one rule for tenant ids, the plan
// table), so that no argument can carry YAML into the file.
func checkArguments(verb, id string, planName *string) error {
	if err := tenantid.Check(id); err != nil {
		return refuse("cannot %s tenant %q: the tenant id %q %v", verb, id, id, err)
	}
	if planName != nil {
		if _, ok := config.LookupPlan(*planName); !ok {
			return refuse("cannot %s tenant %s: --plan %q must be one of %s", verb, id, *planName, strings.Join(config.PlanNames(), ", "))
		}
	}
	return nil
}

// SetPlan moves a tenant to another plan.
func SetPlan(opts Options, out io.Writer, id, planName string) error {
	if err := checkArguments("change the plan of", id, &planName); err != nil {
		return err
	}
	s, err := open(opts, out, "change the plan of tenant "+id)
	if err != nil {
		return err
	}
	e, ok := s.file.find(id)
	if !ok {
		return refuse("cannot change the plan of tenant %s: %s lists no such tenant", id, s.file.name)
	}
	if e.Plan == planName {
		fmt.Fprintf(out, "Tenant %s is already on plan %s: nothing to change.\n", id, planName)
		return nil
	}
	after, err := s.file.setValue(e, "plan", planName)
	if err != nil {
		return err
	}
	return s.apply("change the plan of", id, after, s.file.with(e, func(e *entry) { e.Plan = planName }),
		fmt.Sprintf("Moving tenant %s of stack %s from plan %s to %s.", id, opts.Stack, e.Plan, planName), nil)
}

// Remove takes a tenant out of the stack file. Its data stays unless
// dropData, which follows the program's two steps: the entry is first
// marked onRemove: drop, and removed only once that marking is deployed.
func Remove(opts Options, out io.Writer, id string, dropData bool) error {
	if err := checkArguments("remove", id, nil); err != nil {
		return err
	}
	s, err := open(opts, out, "remove tenant "+id)
	if err != nil {
		return err
	}
	e, ok := s.file.find(id)
	if !ok {
		return refuse("cannot remove tenant %s: %s lists no such tenant", id, s.file.name)
	}
	var t config.Tenant
	for _, candidate := range s.current.Tenants {
		if candidate.ID == id {
			t = candidate
		}
	}
	marked := e.OnRemove == config.OnRemoveDrop
	switch {
	case !dropData && marked:
		return refuse("will not remove tenant %s without --drop-data: its entry says onRemove: drop, so removing it deletes its data. "+
			"Run remove %s --drop-data to mean it, or set its onRemove back to keep", id, id)
	case !dropData:
		after, err := s.file.remove(e)
		if err != nil {
			return err
		}
		return s.apply("remove", id, after, s.file.without(e), fmt.Sprintf("Removing tenant %s from stack %s.", id, opts.Stack),
			s.removalNotice(id, t, e.OnRemove))
	case !marked:
		after, err := s.file.setValue(e, "onRemove", config.OnRemoveDrop)
		if err != nil {
			return err
		}
		intro := fmt.Sprintf("Step 1 of 2 of deleting tenant %s's data: marking its entry onRemove: drop. Nothing is deleted yet.", id)
		return s.apply("mark for deletion", id, after, s.file.with(e, func(e *entry) { e.OnRemove = config.OnRemoveDrop }), intro, []string{
			fmt.Sprintf("Next: deploy this (pulumi up -s %s), then run remove %s --drop-data again: the second step removes the entry, "+
				"and the deployment after it deletes the data. The program deletes data only when the deployment before the removal said drop.",
				opts.Stack, id),
		})
	default:
		deployed, known := s.deployedOnRemove(id)
		if known && deployed.OnRemove != config.OnRemoveDrop && deployed.Plan != "" {
			return refuse("will not remove tenant %s yet: %s marks it onRemove: drop, but the previous deployment still says %s. "+
				"Deploy the marking first (pulumi up -s %s); removing the entry before that keeps the data",
				id, s.file.name, orKeep(deployed.OnRemove), opts.Stack)
		}
		after, err := s.file.remove(e)
		if err != nil {
			return err
		}
		intro := fmt.Sprintf("Step 2 of 2 of deleting tenant %s's data: removing its entry.", id)
		notes := s.removalNotice(id, t, e.OnRemove)
		if !known {
			notes = append(notes, "Not checked: that the onRemove: drop marking is deployed (no --previous given). If it is not, the next deployment keeps the data.")
		}
		return s.apply("remove", id, after, s.file.without(e), intro, notes)
	}
}

// deployedOnRemove is the tenant as the previous deployment left it (its
// Plan empty when not deployed), when the deployment's outputs were given.
func (s *session) deployedOnRemove(id string) (config.DeployedTenant, bool) {
	if s.opts.Previous == nil {
		return config.DeployedTenant{}, false
	}
	d, err := config.DeployedFrom(s.opts.Previous[platform.OutputTenants], nil, nil)
	if err != nil {
		return config.DeployedTenant{}, false
	}
	return d.Tenants[id], true
}

func orKeep(onRemove string) string {
	if onRemove == "" {
		return config.OnRemoveKeep
	}
	return onRemove
}

// removalNotice says what deploying the removal does to the tenant's data:
// the notice the plan prints for the same change (config.RemovalNotice),
// from the previous deployment when given, else from the file as it stands.
func (s *session) removalNotice(id string, t config.Tenant, fileOnRemove string) []string {
	isolation, onRemove := t.Plan.Isolation, fileOnRemove
	if deployed, known := s.deployedOnRemove(id); known {
		if deployed.Plan == "" {
			return []string{fmt.Sprintf("Tenant %s is not deployed: removing its entry deletes nothing.", id)}
		}
		isolation, onRemove = deployed.Isolation, deployed.OnRemove
	}
	return []string{config.RemovalNotice(id, isolation, onRemove, s.current.DataProtection.Protect)}
}

// List prints the stack file's tenants, with what each plan gives them in
// this environment, and, given the previous deployment, what is deployed.
func List(opts Options, out io.Writer) error {
	s, err := open(opts, out, "list the tenants")
	if err != nil {
		return err
	}
	var deployed *config.Deployed
	if opts.Previous != nil {
		if deployed, _, err = s.deployed(); err != nil {
			return err
		}
	}
	w := newTable(out)
	header := "TENANT\tPLAN\tISOLATION\tDATABASE\tON REMOVE"
	if deployed != nil {
		header += "\tDEPLOYED"
	}
	fmt.Fprintln(w, header)
	listed := map[string]bool{}
	for _, t := range s.current.Tenants {
		listed[t.ID] = true
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", t.ID, t.Plan.Name, t.Plan.Isolation, database(t), t.OnRemove)
		if deployed != nil {
			d, ok := deployed.Tenants[t.ID]
			row += "\t" + map[bool]string{true: d.Plan, false: "not yet"}[ok]
		}
		fmt.Fprintln(w, row)
	}
	if deployed != nil {
		var gone []string
		for id := range deployed.Tenants {
			if !listed[id] {
				gone = append(gone, id)
			}
		}
		sort.Strings(gone)
		for _, id := range gone {
			d := deployed.Tenants[id]
			fmt.Fprintf(w, "%s\t-\t%s\tremoved from the file, not yet from the stack\t%s\t%s\n", id, d.Isolation, orKeep(d.OnRemove), d.Plan)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if opts.Registry == nil {
		return nil
	}
	return s.listRuntime(context.Background(), out)
}

// instance names the PostgreSQL a pool tenant's database is in.
func instance(t config.Tenant) string {
	if t.Pool == config.SharedPool {
		return "the shared PostgreSQL"
	}
	return "pool " + t.Pool + "'s PostgreSQL"
}

// database describes where a tenant's data lives in this environment.
func database(t config.Tenant) string {
	if t.Plan.Isolation == config.Pool {
		return fmt.Sprintf("%s, %d connections", strings.TrimPrefix(instance(t), "the "), t.Plan.ConnectionLimit)
	}
	db := t.Database
	az := "single-AZ"
	if db.MultiAz {
		az = "multi-AZ"
	}
	storage := fmt.Sprintf("%d GiB", db.AllocatedStorage)
	if db.MaxAllocatedStorage > db.AllocatedStorage {
		storage = fmt.Sprintf("%d-%d GiB", db.AllocatedStorage, db.MaxAllocatedStorage)
	}
	return strings.Join([]string{db.InstanceClass, storage, az}, ", ")
}
