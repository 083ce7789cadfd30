package onboarding

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The functions' environment: which handler the shared binary runs
// (cmd/tenantdb serves the provisioner, the API and the worker), and what
// each needs to know.
const (
	EnvHandler     = "TENANTDB_HANDLER"
	HandlerAPI     = "onboarding-api"
	HandlerWorker  = "onboarding-worker"
	EnvTable       = "ONBOARDING_TABLE"
	EnvQueueURL    = "ONBOARDING_QUEUE_URL"
	EnvCallers     = "ONBOARDING_CALLERS" // JSON list of role and user ARNs
	EnvStack       = "ONBOARDING_STACK"
	EnvMaxAttempts = "ONBOARDING_MAX_ATTEMPTS"
	// Where the worker keeps tenants' secrets and facts (TenantDB).
	EnvPathPrefix = "ONBOARDING_PATH_PREFIX"
	EnvKeyArn     = "ONBOARDING_KEY_ARN"
	EnvProtect    = "ONBOARDING_PROTECT"
)

// RegistryTable is the registry table's name: fixed, so that the tenants
// command finds it from the project and stack names alone.
func RegistryTable(project, stack string) string {
	return project + "-" + stack + "-tenants"
}

// FromEnvironment configures the API from its function's environment.
func (a *API) FromEnvironment(getenv func(string) string) error {
	a.Registry.Table, a.QueueURL, a.Stack = getenv(EnvTable), getenv(EnvQueueURL), getenv(EnvStack)
	if err := json.Unmarshal([]byte(getenv(EnvCallers)), &a.Callers); err != nil {
		return fmt.Errorf("%s is not a JSON list of ARNs: %w", EnvCallers, err)
	}
	if a.Registry.Table == "" || a.QueueURL == "" || len(a.Callers) == 0 {
		return fmt.Errorf("the API needs %s, %s and %s", EnvTable, EnvQueueURL, EnvCallers)
	}
	return nil
}

// FromEnvironment configures the worker from its function's environment.
func (w *Worker) FromEnvironment(getenv func(string) string) error {
	w.Registry.Table = getenv(EnvTable)
	attempts, err := strconv.Atoi(getenv(EnvMaxAttempts))
	if err != nil || attempts < 1 || w.Registry.Table == "" {
		return fmt.Errorf("the worker needs %s and %s (a positive number)", EnvTable, EnvMaxAttempts)
	}
	w.MaxAttempts = attempts
	return nil
}

// FromEnvironment configures the worker's provisioning from its
// function's environment.
func (p *TenantDB) FromEnvironment(getenv func(string) string) error {
	p.Layout.PathPrefix, p.KeyArn = getenv(EnvPathPrefix), getenv(EnvKeyArn)
	protect, err := strconv.ParseBool(getenv(EnvProtect))
	if err != nil || p.Layout.PathPrefix == "" || p.KeyArn == "" {
		return fmt.Errorf("the worker needs %s, %s and %s (true or false)", EnvPathPrefix, EnvKeyArn, EnvProtect)
	}
	p.Protect = protect
	return nil
}
