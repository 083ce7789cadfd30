package tenants

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/plan"
)

const projectDir = "../.."

// Stack files written every way the tenants list can be: the editor must
// change the lines of the tenant it edits and no other byte.
var layouts = map[string]string{
	"one flow entry a line, with comments and blank lines": `# The prod environment.
config:
  aws:region: ap-northeast-1   # Tokyo

  saas-platform:sizing: dev
  # Tenants, newest last.
  saas-platform:tenants:
    - {id: acme, plan: premium}   # signed 2024-03

    - { id: globex , plan: "free" }
    - {id: initech, plan: 'basic', onRemove: keep}
  # trailing comment
`,
	"block entries": `config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:tenants:
  - id: acme
    plan: premium
  - id: globex
    plan: free   # trial
`,
	"no tenants yet": `config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
`,
	"a flow list": `config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:tenants: [{id: acme, plan: premium}, {id: globex, plan: free}]  # all of them
`,
	"no newline at the end": `config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:tenants:
    - {id: acme, plan: premium}`,
}

func parse(t *testing.T, content string) *stackFile {
	t.Helper()
	f, err := parseStackFile([]byte(content), "Pulumi.test.yaml", "saas-platform")
	require.NoError(t, err)
	return f
}

func TestAddingThenRemovingATenantLeavesEveryLayoutByteIdentical(t *testing.T) {
	for name, content := range layouts {
		t.Run(name, func(t *testing.T) {
			added, err := parse(t, content).add("newco", "basic", "")
			require.NoError(t, err)
			f := parse(t, string(added))
			e, ok := f.find("newco")
			require.True(t, ok, "the added tenant is read back:\n%s", added)
			assert.Equal(t, "basic", e.Plan)

			removed, err := f.remove(e)
			require.NoError(t, err)
			assert.Equal(t, content, string(removed))
		})
	}
}

func TestATenantIsAddedInTheStyleOfTheOthers(t *testing.T) {
	cases := map[string]string{
		"one flow entry a line, with comments and blank lines": "    - {id: acme, plan: premium}   # signed 2024-03\n\n    - { id: globex , plan: \"free\" }\n    - {id: initech, plan: 'basic', onRemove: keep}\n    - {id: newco, plan: basic}\n  # trailing comment\n",
		"block entries":  "  - id: globex\n    plan: free   # trial\n  - id: newco\n    plan: basic\n",
		"no tenants yet": "  saas-platform:sizing: dev\n  saas-platform:tenants:\n    - {id: newco, plan: basic}\n",
		"a flow list":    "[{id: acme, plan: premium}, {id: globex, plan: free}, {id: newco, plan: basic}]  # all of them\n",
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			added, err := parse(t, layouts[name]).add("newco", "basic", "")
			require.NoError(t, err)
			assert.True(t, strings.HasSuffix(string(added), want), "got:\n%s", added)
		})
	}
}

// changedLines returns the line numbers (1-based) whose text differs.
func changedLines(t *testing.T, before, after string) []int {
	t.Helper()
	a, b := strings.Split(before, "\n"), strings.Split(after, "\n")
	require.Equal(t, len(a), len(b), "lines were added or removed")
	var changed []int
	for i := range a {
		if a[i] != b[i] {
			changed = append(changed, i+1)
		}
	}
	return changed
}

// lineOf is the number of the line holding text.
func lineOf(t *testing.T, content, text string) int {
	t.Helper()
	for i, line := range strings.Split(content, "\n") {
		if strings.Contains(line, text) {
			return i + 1
		}
	}
	t.Fatalf("no line holds %q", text)
	return 0
}

func TestEditingOneTenantLeavesEveryOtherLineCommentAndBlankLineUntouched(t *testing.T) {
	content := layouts["one flow entry a line, with comments and blank lines"]
	f := parse(t, content)

	cases := []struct {
		id, key, value string
		line           int
		want           string
	}{
		{"acme", "plan", "enterprise", 8, "    - {id: acme, plan: enterprise}   # signed 2024-03"},
		{"globex", "plan", "basic", 10, `    - { id: globex , plan: "basic" }`},
		{"initech", "plan", "free", 11, "    - {id: initech, plan: 'free', onRemove: keep}"},
		{"initech", "onRemove", "drop", 11, "    - {id: initech, plan: 'basic', onRemove: drop}"},
		{"acme", "onRemove", "drop", 8, "    - {id: acme, plan: premium, onRemove: drop}   # signed 2024-03"},
	}
	for _, tc := range cases {
		t.Run(tc.id+" "+tc.key, func(t *testing.T) {
			e, ok := f.find(tc.id)
			require.True(t, ok)
			after, err := f.setValue(e, tc.key, tc.value)
			require.NoError(t, err)
			assert.Equal(t, []int{tc.line}, changedLines(t, content, string(after)))
			assert.Equal(t, tc.want, strings.Split(string(after), "\n")[tc.line-1])
		})
	}

	block := parse(t, layouts["block entries"])
	e, _ := block.find("acme")
	after, err := block.setValue(e, "onRemove", "drop")
	require.NoError(t, err)
	assert.Contains(t, string(after), "  - id: acme\n    plan: premium\n    onRemove: drop\n  - id: globex\n")
}

// run runs the command on a copy of a stack file and returns the exit
// status, stdout, stderr and the file's content afterwards.
func run(t *testing.T, file string, cost CostFunc, args ...string) (int, string, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(append([]string{"--project", projectDir, "--config", file}, args...), &stdout, &stderr, cost)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	return code, stdout.String(), stderr.String(), string(data)
}

// copyOf copies a stack file of the repository into a temporary directory.
func copyOf(t *testing.T, name string) (string, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(projectDir, name))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o640))
	return path, string(data)
}

// outputs writes stack outputs, as `pulumi stack output --json` would.
func outputs(t *testing.T, tenants map[string]any) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"tenants": tenants, "cacheClusterMode": true})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "previous.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

func deployed(plan, isolation string, storage int, onRemove string) map[string]any {
	return map[string]any{"plan": plan, "isolation": isolation, "allocatedStorage": storage, "onRemove": onRemove}
}

func TestAddingAndRemovingATenantOfProdPrintsWhatItDoesAndRestoresTheFile(t *testing.T) {
	file, original := copyOf(t, "Pulumi.prod.yaml")
	code, stdout, stderr, content := run(t, file, nil, "--stack", "prod", "add", "hooli", "--plan", "premium")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, content, "    - {id: hooli, plan: premium}\n")
	assert.Contains(t, stdout, "Adding tenant hooli to stack prod on plan premium.")
	assert.Regexp(t, `\+ create\s+aws:rds/instance:Instance\s+saas-platform-prod-tenant-hooli\s+\[protect, retainOnDelete\]`, stdout)
	assert.Regexp(t, `\+- replace\s+aws:backup/selection:Selection\s+saas-platform-prod\s+resources`, stdout,
		"AWS Backup replaces a selection to add a database")
	assert.Contains(t, stdout, "Wrote Pulumi.prod.yaml")
	info, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), info.Mode().Perm(), "the file keeps its permissions")

	code, stdout, stderr, content = run(t, file, nil, "--stack", "prod", "remove", "hooli")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, original, content, "byte-identical after add then remove")
	assert.Contains(t, stdout, "Tenant hooli's data is kept: its instance is protected")
	assert.Regexp(t, `- delete\s+aws:rds/instance:Instance\s+saas-platform-prod-tenant-hooli\s+protected`, stdout)
}

func TestAPlanChangeUpdatesInPlaceAndPricesTheDifferenceWhenAnEstimateExists(t *testing.T) {
	file, original := copyOf(t, "Pulumi.prod.yaml")
	// A stand-in estimate: 100 USD per GiB of a silo plan's starting storage.
	cost := func(r *plan.Result) (float64, error) {
		total := 0.0
		for _, db := range plan.OfType(r.Resources, "aws:rds/instance:Instance") {
			total += db.Number("allocatedStorage") * 100
		}
		return total, nil
	}
	code, stdout, stderr, content := run(t, file, cost, "--stack", "prod", "set-plan", "umbrella", "enterprise")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, []int{lineOf(t, original, "{id: umbrella,")}, changedLines(t, original, content))
	assert.Contains(t, content, "    - {id: umbrella, plan: enterprise}\n")
	assert.Regexp(t, `~ update\s+aws:rds/instance:Instance\s+saas-platform-prod-tenant-umbrella\s+.*instanceClass.*maxAllocatedStorage.*multiAz`, stdout)
	assert.NotRegexp(t, `saas-platform-prod-tenant-umbrella\s+.*allocatedStorage, `, stdout, "RDS owns allocatedStorage once created")
	assert.Contains(t, stdout, "0 to create, 0 to replace")
	assert.Contains(t, stdout, "Monthly cost: +40000.00 USD (70000.00 -> 110000.00)")
}

func TestTheCommandRefusesWhatTheProgramWouldAndNamesTheTenant(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		message string
	}{
		{"an id already listed", []string{"add", "acme", "--plan", "free"}, "cannot add tenant acme: Pulumi.prod.yaml already lists it, on plan enterprise"},
		{"an id AWS names cannot hold", []string{"add", "Hooli_Inc", "--plan", "free"}, `cannot add tenant "Hooli_Inc": the tenant id "Hooli_Inc" must be lowercase`},
		{"a plan that does not exist", []string{"add", "hooli", "--plan", "gold"}, `cannot add tenant hooli: --plan "gold" must be one of basic, enterprise, free, premium`},
		{"a plan that smuggles a key into the entry", []string{"set-plan", "acme", "enterprise, onRemove: drop"}, `cannot change the plan of tenant acme: --plan "enterprise, onRemove: drop" must be one of`},
		{"a plan flag that smuggles a key into a new entry", []string{"add", "hooli", "--plan", "free, onRemove: drop"}, `--plan "free, onRemove: drop" must be one of`},
		{"an id that smuggles a key into a new entry", []string{"add", "hooli, onRemove: drop", "--plan", "free"}, `the tenant id "hooli, onRemove: drop" must be lowercase`},
		{"an id that closes the entry", []string{"add", "hooli}", "--plan", "free"}, `the tenant id "hooli}" must be lowercase`},
		{"an id on a line of its own", []string{"add", "hooli\n    - {id: evil, plan: free", "--plan", "free"}, `must be lowercase`},
		{"the master user's id", []string{"add", "saas-admin", "--plan", "free"}, `the tenant id "saas-admin" makes the database and role name "saas_admin", which is the master user`},
		{"a reserved role's id", []string{"add", "public", "--plan", "free"}, `the tenant id "public" makes the role name "public", which PostgreSQL reserves`},
		{"a built-in database's id", []string{"add", "template1", "--plan", "free"}, `which every PostgreSQL instance already has`},
		{"an id a removal would misread", []string{"remove", "acme, onRemove: drop"}, `cannot remove tenant "acme, onRemove: drop"`},
		{"a silo tenant moved to a pool plan", []string{"set-plan", "acme", "free"}, "cannot change the plan of tenant acme: invalid stack config: saas-platform:tenants[0].plan: \"free\" cannot replace enterprise for tenant acme"},
		{"a plan that would shrink storage", []string{"set-plan", "acme", "premium"}, "would shrink tenant acme's storage from 500 to 100 GiB"},
		{"a tenant that is not there", []string{"set-plan", "hooli", "premium"}, "cannot change the plan of tenant hooli: Pulumi.prod.yaml lists no such tenant"},
		{"removing a tenant that is not there", []string{"remove", "hooli"}, "cannot remove tenant hooli: Pulumi.prod.yaml lists no such tenant"},
		{"re-adding a deployed silo tenant on a pool plan", []string{"--previous", "hooli-silo", "add", "hooli", "--plan", "free"},
			"cannot add tenant hooli: invalid stack config: saas-platform:tenants[4].plan: \"free\" cannot replace premium for tenant hooli"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file, original := copyOf(t, "Pulumi.prod.yaml")
			args := append([]string{"--stack", "prod"}, tc.args...)
			if args[2] == "--previous" {
				args[3] = outputs(t, map[string]any{"hooli": deployed("premium", "silo", 100, "keep")})
			}
			code, stdout, stderr, content := run(t, file, nil, args...)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, tc.message)
			assert.Empty(t, stdout, "a refusal is on stderr only")
			assert.Equal(t, original, content, "a refused change leaves the file byte for byte as it was")
		})
	}
}

func TestAStackFileThatIsAlreadyInvalidIsRefusedNamingTheTenant(t *testing.T) {
	file, original := copyOf(t, "Pulumi.dev.yaml")
	broken := strings.Replace(original, "cidr: 10.10.0.0/16", "cidr: 8.8.0.0/16", 1)
	require.NoError(t, os.WriteFile(file, []byte(broken), 0o600))
	code, _, stderr, content := run(t, file, nil, "--stack", "dev", "add", "hooli", "--plan", "free")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cannot add tenant hooli: Pulumi.dev.yaml is invalid as it stands")
	assert.Contains(t, stderr, "saas-platform:network.cidr")
	assert.Equal(t, broken, content)
}

func TestDroppingATenantsDataTakesTwoStepsWithADeploymentBetween(t *testing.T) {
	file, original := copyOf(t, "Pulumi.prod.yaml")
	code, stdout, stderr, _ := run(t, file, nil, "--stack", "prod", "remove", "globex", "--drop-data")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Step 1 of 2")
	assert.Contains(t, stdout, "Next: deploy this (pulumi up -s prod), then run remove globex --drop-data again")
	assert.Regexp(t, `~ update\s+aws:lambda/invocation:Invocation\s+saas-platform-prod-tenant-globex\s+input`, stdout,
		"the provisioner learns that a removal drops the database")
	marked, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, []int{lineOf(t, original, "{id: globex,")}, changedLines(t, original, string(marked)))
	assert.Contains(t, string(marked), "    - {id: globex, plan: free, onRemove: drop}\n")

	code, _, stderr, _ = run(t, file, nil, "--stack", "prod", "remove", "globex")
	assert.Equal(t, 1, code, "a plain remove of a tenant marked drop would delete its data unasked")
	assert.Contains(t, stderr, "will not remove tenant globex without --drop-data")

	notYet := outputs(t, map[string]any{"globex": deployed("free", "pool", 0, "keep")})
	code, _, stderr, content := run(t, file, nil, "--stack", "prod", "--previous", notYet, "remove", "globex", "--drop-data")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "will not remove tenant globex yet: Pulumi.prod.yaml marks it onRemove: drop, but the previous deployment still says keep")
	assert.Equal(t, string(marked), content)

	done := outputs(t, map[string]any{"globex": deployed("free", "pool", 0, "drop")})
	code, stdout, stderr, content = run(t, file, nil, "--stack", "prod", "--previous", done, "remove", "globex", "--drop-data")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Step 2 of 2")
	assert.Contains(t, stdout, "WARNING: tenant globex's data is deleted: deploying this drops its database and login role")
	assert.NotContains(t, content, "globex")
}

func TestListShowsEachTenantsDatabaseAndWhatIsDeployed(t *testing.T) {
	file, _ := copyOf(t, "Pulumi.prod.yaml")
	previous := outputs(t, map[string]any{
		"acme":    deployed("premium", "silo", 100, "keep"),
		"initech": deployed("basic", "pool", 0, "keep"),
		"oldco":   deployed("free", "pool", 0, "drop"),
	})
	code, stdout, stderr, _ := run(t, file, nil, "--stack", "prod", "--previous", previous, "list")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `acme\s+enterprise\s+silo\s+db\.r6g\.large, 500-2000 GiB, multi-AZ\s+keep\s+premium`, stdout)
	assert.Regexp(t, `globex\s+free\s+pool\s+shared PostgreSQL, 5 connections\s+keep\s+not yet`, stdout)
	assert.Regexp(t, `oldco\s+-\s+pool\s+removed from the file, not yet from the stack\s+drop\s+free`, stdout)
}

func TestADryRunPrintsTheChangeAndWritesNothing(t *testing.T) {
	file, original := copyOf(t, "Pulumi.dev.yaml")
	code, stdout, stderr, content := run(t, file, nil, "--stack", "dev", "--dry-run", "remove", "acme")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, original, content)
	assert.Contains(t, stdout, "WARNING: tenant acme's data is deleted: this environment does not protect its data")
	assert.NotContains(t, stdout, "kept", "a dev silo tenant's removal never says its data is kept")
	assert.Contains(t, stdout, "Dry run: Pulumi.dev.yaml is unchanged.")
}

func TestUsageErrorsExitTwo(t *testing.T) {
	file, _ := copyOf(t, "Pulumi.dev.yaml")
	for _, args := range [][]string{
		{"list"},                                  // no --stack
		{"--stack", "dev"},                        // no command
		{"--stack", "dev", "promote", "acme"},     // no such command
		{"--stack", "dev", "add", "acme"},         // no plan
		{"--stack", "dev", "list", "--drop-data"}, // a flag of another command
		{"--stack", "dev", "set-plan", "acme"},    // no plan
		{"--stack", "dev", "remove", "acme", "x"}, // one id
		{"--stack", "dev", "--previous", "nope.json", "list"},
	} {
		code, _, _, _ := run(t, file, nil, args...)
		assert.Equal(t, 2, code, "%v", args)
	}
	var stderr bytes.Buffer
	assert.Equal(t, 2, Main([]string{"--project", projectDir, "--stack", "nosuchstack", "list"}, &bytes.Buffer{}, &stderr, nil))
	assert.Contains(t, stderr.String(), "Pulumi.nosuchstack.yaml")
}

// pooled is a dev stack file with two pools beside the shared instance
// (db.t4g.micro: 97 connections for tenants): a db.t4g.micro too and a
// db.t4g.small (210).
const pooled = `config:
  aws:region: ap-northeast-1
  saas-platform:sizing: dev
  saas-platform:imageTag: dev-abc1234
  saas-platform:database:
    pools:
      - {name: a}
      - {name: b, instanceClass: db.t4g.small}
  saas-platform:tenants:
    - {id: s1, plan: basic}
    - {id: s2, plan: basic}
    - {id: a1, plan: basic, pool: a}
    - {id: b1, plan: basic, pool: b}
    - {id: b2, plan: basic, pool: b}
    - {id: b3, plan: basic, pool: b}
    - {id: b4, plan: basic, pool: b}
    - {id: b5, plan: basic, pool: b}
    - {id: b6, plan: basic, pool: b}
    - {id: b7, plan: basic, pool: b}
`

func writeStack(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestANewPoolTenantGoesToThePoolWithTheMostRoomWrittenIntoTheFile(t *testing.T) {
	// Room: shared 97 - 40 = 57, a 97 - 20 = 77, b 210 - 140 = 70.
	file := writeStack(t, pooled)
	code, stdout, stderr, content := run(t, file, nil, "--stack", "dev", "add", "newco", "--plan", "basic")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, content, "    - {id: newco, plan: basic, pool: a}\n")
	assert.Contains(t, stdout, "Adding tenant newco to stack dev on plan basic, in pool a (saas-platform-dev-pool-a), "+
		"the one with the most room: 77 of 97 connections and 999 of 1000 databases free before it.")

	// a now has 57 left, as has the shared instance: a free tenant goes to
	// b (70).
	code, _, stderr, content = run(t, file, nil, "--stack", "dev", "add", "trial", "--plan", "free")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, content, "    - {id: trial, plan: free, pool: b}\n")

	// A silo tenant takes no pool.
	code, _, stderr, content = run(t, file, nil, "--stack", "dev", "add", "bigco", "--plan", "premium")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, content, "    - {id: bigco, plan: premium}\n")
}

func TestWhenNoPoolHasRoomTheCommandRefusesAndSaysWhichPoolToAdd(t *testing.T) {
	full := strings.Replace(pooled, "  saas-platform:database:\n    pools:\n      - {name: a}\n      - {name: b, instanceClass: db.t4g.small}\n",
		"  saas-platform:database:\n    pools:\n      - {name: a}\n", 1)
	full = strings.ReplaceAll(full, ", pool: b}", ", pool: a}")
	full = strings.Replace(full, "    - {id: b4, plan: basic, pool: a}\n", "", 1) // a: 6 x 20 = 120 > 97 with b4
	full = strings.Replace(full, "    - {id: b5, plan: basic, pool: a}\n", "", 1)
	full = strings.Replace(full, "    - {id: b6, plan: basic, pool: a}\n", "", 1)
	full = strings.Replace(full, "    - {id: b7, plan: basic, pool: a}\n", "", 1) // a: 80 of 97, shared 40 of 97
	full += "    - {id: s3, plan: basic}\n    - {id: s4, plan: basic}\n"          // shared: 80 of 97
	file := writeStack(t, full)
	code, stdout, stderr, content := run(t, file, nil, "--stack", "dev", "add", "newco", "--plan", "basic")
	assert.Equal(t, 1, code, stdout)
	assert.Contains(t, stderr, "cannot add tenant newco: no pool has room for tenant newco (20 connections): "+
		"shared (db.t4g.micro: 80 of 97 connections, 4 of 1000 databases); a (db.t4g.micro: 80 of 97 connections, 4 of 1000 databases). "+
		"Add a pool to database.pools, such as {name: <new pool>, instanceClass: db.t4g.micro}")
	assert.Equal(t, full, content)

	code, _, stderr, content = run(t, file, nil, "--stack", "dev", "add", "trial", "--plan", "free")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, content, "    - {id: trial, plan: free, pool: shared}\n", "a smaller tenant still fits")
}

func TestATenantReAddedWhileDeployedGoesBackToItsPoolAndAMoveIsRefused(t *testing.T) {
	file := writeStack(t, pooled)
	devOutputs := func(tenants map[string]any) string {
		data, err := json.Marshal(map[string]any{"tenants": tenants, "cacheClusterMode": true, "cacheMode": "serverless"})
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "previous.json")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	previous := devOutputs(map[string]any{"oldco": map[string]any{"plan": "basic", "isolation": "pool", "pool": "b", "onRemove": "keep"}})
	code, stdout, stderr, content := run(t, file, nil, "--stack", "dev", "--previous", previous, "add", "oldco", "--plan", "free")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, content, "    - {id: oldco, plan: free, pool: b}\n", "not a, which has the most room")
	assert.Contains(t, stdout, "in pool b, where the previous deployment has its database")

	moved := strings.Replace(pooled, "{id: a1, plan: basic, pool: a}", "{id: a1, plan: basic, pool: b}", 1)
	file = writeStack(t, moved)
	previous = devOutputs(map[string]any{"a1": map[string]any{"plan": "basic", "isolation": "pool", "pool": "a"}})
	code, _, stderr, _ = run(t, file, nil, "--stack", "dev", "--previous", previous, "set-plan", "a1", "free")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "saas-platform:tenants[2].pool: \"b\" cannot move tenant a1: its database is deployed in pool a")
}

// One notice for one change: removing a tenant prints what happens to its
// data, and the plan of the file without it, given the same deployment,
// prints the very same words.
func TestThePlanPrintsTheSameDataLossNoticeAsTheRemoval(t *testing.T) {
	cases := []struct {
		name, stack, id string
		deployed        map[string]any
		notice          string
	}{
		{"a dev silo tenant", "dev", "acme", deployed("premium", "silo", 20, "keep"), "WARNING: tenant acme's data is deleted: this environment does not protect its data"},
		{"a dev pool tenant", "dev", "globex", deployed("free", "pool", 0, "keep"), "Tenant globex's data is kept"},
		{"a prod silo tenant", "prod", "umbrella", deployed("premium", "silo", 100, "keep"), "Tenant umbrella's data is kept: its instance is protected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file, _ := copyOf(t, "Pulumi."+tc.stack+".yaml")
			// The cluster protocol in every preset; dev's cache is serverless.
			mode := map[string]string{"dev": "serverless", "prod": "nodes"}[tc.stack]
			data, err := json.Marshal(map[string]any{"tenants": map[string]any{tc.id: tc.deployed}, "cacheClusterMode": true, "cacheMode": mode})
			require.NoError(t, err)
			previous := filepath.Join(t.TempDir(), "previous.json")
			require.NoError(t, os.WriteFile(previous, data, 0o600))
			code, stdout, stderr, _ := run(t, file, nil, "--stack", tc.stack, "--previous", previous, "remove", tc.id)
			require.Equal(t, 0, code, stderr)
			var notice string
			for _, line := range strings.Split(stdout, "\n") {
				if strings.Contains(line, tc.id+"'s data") {
					notice = line
				}
			}
			require.NotEmpty(t, notice, stdout)
			assert.Contains(t, notice, tc.notice)

			var planOut, planErr bytes.Buffer
			code = plan.Main([]string{"--project", projectDir, "--config", file, "--stack", tc.stack, "--previous", previous}, &planOut, &planErr)
			require.Equal(t, 0, code, planErr.String())
			assert.Contains(t, planErr.String(), "plan: "+notice+"\n")
			assert.NotContains(t, planOut.String(), notice, "notices stay off the plan on stdout")
		})
	}
}
