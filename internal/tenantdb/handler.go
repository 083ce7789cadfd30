package tenantdb

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/jackc/pgx/v5"
)

// Event is what the aws.lambda.Invocation resource sends. Pulumi adds the
// "tf" block (the CRUD lifecycle): create and update on `pulumi up`, delete
// when the tenant leaves the stack file, with the last input it was given.
type Event struct {
	// Kind is the request: "" (a tenant's database and login, pool or
	// silo) or KindServiceLogin (a service's login in the database).
	Kind string `json:"kind,omitempty"`
	// Login and SecretArn are a service login's role and its secret.
	Login     string `json:"login,omitempty"`
	SecretArn string `json:"secretArn,omitempty"`

	Database        string `json:"database"`
	ConnectionLimit int    `json:"connectionLimit"`
	Host            string `json:"host"`
	Port            int    `json:"port"`
	MasterSecretArn string `json:"masterSecretArn"`
	TenantSecretArn string `json:"tenantSecretArn"`
	OnRemove        string `json:"onRemove"` // keep | drop

	// Set when the function owns the tenant's secret and connection facts
	// (a stack carries at most two resources per pool tenant): the secret
	// named SecretName (TenantSecretArn is then found by it) and the
	// SecureString parameters <ParameterPath>/{host,port,database,secret-arn},
	// both encrypted with KmsKeyID and tagged with Tags. Removal deletes
	// the facts, and the secret too unless the data is kept in a protected
	// environment (Protect), where a re-added tenant finds its password.
	SecretName    string            `json:"secretName,omitempty"`
	ParameterPath string            `json:"parameterPath,omitempty"`
	KmsKeyID      string            `json:"kmsKeyId,omitempty"`
	Description   string            `json:"description,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	Protect       bool              `json:"protect,omitempty"`

	TF *struct {
		Action string `json:"action"`
	} `json:"tf,omitempty"`
}

// Result is returned to Pulumi as the invocation's result.
type Result struct {
	Database string `json:"database"`
	Action   string `json:"action"`
	// SecretArn is the tenant's secret, when the function owns it (never
	// the credentials themselves).
	SecretArn string `json:"secretArn,omitempty"`
}

// SecretsAPI is the part of Secrets Manager the handler uses.
type SecretsAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	RestoreSecret(context.Context, *secretsmanager.RestoreSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error)
	TagResource(context.Context, *secretsmanager.TagResourceInput, ...func(*secretsmanager.Options)) (*secretsmanager.TagResourceOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

// Handler provisions one pool tenant per invocation.
type Handler struct {
	Secrets SecretsAPI
	// Parameters writes the tenant's connection facts (events with a
	// parameterPath).
	Parameters ParametersAPI
	// SSLMode is the libpq sslmode for the master connection; the shared
	// instance forces TLS, so the Lambda uses "require".
	SSLMode string
}

// Credentials is the JSON in a tenant's secret, shaped like RDS's own.
type Credentials struct {
	Engine   string `json:"engine"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	Password string `json:"password"`
	DBName   string `json:"dbname"`
}

// KindServiceLogin asks for a service's login in the shared database.
const KindServiceLogin = "serviceLogin"

// Handle runs one lifecycle action.
func (h *Handler) Handle(ctx context.Context, ev Event) (Result, error) {
	action := "create"
	if ev.TF != nil && ev.TF.Action != "" {
		action = ev.TF.Action
	}
	if ev.Database == "" || ev.Host == "" || ev.MasterSecretArn == "" {
		return Result{}, errors.New("event needs database, host and masterSecretArn")
	}
	switch ev.Kind {
	case "":
	case KindServiceLogin:
		return h.serviceLogin(ctx, ev, action)
	default:
		return Result{}, fmt.Errorf("unknown request kind %q", ev.Kind)
	}
	if ev.ParameterPath != "" && h.Parameters == nil {
		return Result{}, errors.New("event has a parameterPath but the handler has no SSM client")
	}
	conn, err := h.connect(ctx, ev, "postgres")
	if err != nil {
		return Result{}, err
	}
	defer conn.Close(context.Background())

	result := Result{Database: ev.Database, Action: action}
	switch action {
	case "create", "update":
		if ev.SecretName != "" {
			if ev.TenantSecretArn, err = h.ensureSecret(ctx, ev); err != nil {
				return Result{}, err
			}
			result.SecretArn = ev.TenantSecretArn
		}
		password, err := h.tenantPassword(ctx, ev)
		if err != nil {
			return Result{}, err
		}
		if err := Ensure(ctx, conn, Tenant{Name: ev.Database, ConnectionLimit: ev.ConnectionLimit}, password); err != nil {
			return Result{}, err
		}
		if ev.ParameterPath != "" {
			if err := h.publishFacts(ctx, ev); err != nil {
				return Result{}, err
			}
		}
	case "delete":
		if err := Retire(ctx, conn, ev.Database, ev.OnRemove == "drop"); err != nil {
			return Result{}, err
		}
		// The data is retired first: the facts and credentials go only
		// once nobody can log in with them.
		if ev.ParameterPath != "" {
			if err := h.deleteFacts(ctx, ev); err != nil {
				return Result{}, err
			}
		}
		if ev.SecretName != "" {
			if err := h.retireSecret(ctx, ev); err != nil {
				return Result{}, err
			}
		}
	default:
		return Result{}, fmt.Errorf("unknown action %q", action)
	}
	return result, nil
}

// serviceLogin creates, updates or retires a service's login in the shared
// database: connected to that database, since the login's schema lives in it.
func (h *Handler) serviceLogin(ctx context.Context, ev Event, action string) (Result, error) {
	if ev.Login == "" || ev.SecretArn == "" {
		return Result{}, errors.New("a service login event needs login and secretArn")
	}
	conn, err := h.connect(ctx, ev, ev.Database)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close(context.Background())
	switch action {
	case "create", "update":
		password, err := h.loginPassword(ctx, ev)
		if err != nil {
			return Result{}, err
		}
		if err := EnsureServiceLogin(ctx, conn, ServiceLogin{Role: ev.Login, Database: ev.Database, ConnectionLimit: ev.ConnectionLimit}, password); err != nil {
			return Result{}, err
		}
	case "delete":
		if err := RetireServiceLogin(ctx, conn, ev.Login); err != nil {
			return Result{}, err
		}
	default:
		return Result{}, fmt.Errorf("unknown action %q", action)
	}
	return Result{Database: ev.Database, Action: action}, nil
}

// ServiceCredentials is the JSON in a service login's secret: RDS's shape
// (${database.secret}) and the same login as a URL (${database.url}, the
// secret's url key). sslmode=verify-full: the client checks the server's
// certificate and name against the RDS CA bundle.
type ServiceCredentials struct {
	Credentials
	URL string `json:"url"`
}

// LoginURL is the postgres:// URL of a login.
func LoginURL(c Credentials) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.Username, c.Password),
		Host:     net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Path:     "/" + c.DBName,
		RawQuery: "sslmode=verify-full",
	}
	return u.String()
}

// loginPassword returns the password in the service's secret, creating it
// the first time, and rewrites the secret when the connection facts change:
// like a tenant's, the password lives only in Secrets Manager and the
// database.
func (h *Handler) loginPassword(ctx context.Context, ev Event) (string, error) {
	var current ServiceCredentials
	out, err := h.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ev.SecretArn)})
	var notFound *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		return "", fmt.Errorf("reading the service login's secret: %w", err)
	default:
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &current); err != nil {
			return "", fmt.Errorf("the service login's secret is not credentials JSON: %w", err)
		}
	}
	want := ServiceCredentials{Credentials: Credentials{
		Engine: "postgres", Host: ev.Host, Port: ev.Port,
		Username: ev.Login, Password: current.Password, DBName: ev.Database,
	}}
	if want.Password == "" {
		if want.Password, err = newPassword(32); err != nil {
			return "", err
		}
	}
	want.URL = LoginURL(want.Credentials)
	if want != current {
		body, _ := json.Marshal(want)
		if _, err := h.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId:     aws.String(ev.SecretArn),
			SecretString: aws.String(string(body)),
		}); err != nil {
			return "", fmt.Errorf("writing the service login's secret: %w", err)
		}
	}
	return want.Password, nil
}

// connect opens a connection to database as the instance's master user.
func (h *Handler) connect(ctx context.Context, ev Event, database string) (*pgx.Conn, error) {
	out, err := h.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ev.MasterSecretArn)})
	if err != nil {
		return nil, fmt.Errorf("reading the master secret: %w", err)
	}
	var master struct{ Username, Password string }
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &master); err != nil || master.Username == "" {
		return nil, errors.New("the master secret is not {username, password} JSON")
	}
	sslMode := h.SSLMode
	if sslMode == "" {
		sslMode = "require"
	}
	dsn := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(master.Username, master.Password),
		Host:     net.JoinHostPort(ev.Host, strconv.Itoa(ev.Port)),
		Path:     "/" + database,
		RawQuery: url.Values{"sslmode": {sslMode}, "connect_timeout": {"10"}}.Encode(),
	}
	conn, err := pgx.Connect(ctx, dsn.String())
	if err != nil {
		return nil, fmt.Errorf("connecting to %s as the master user: %w", ev.Host, err)
	}
	return conn, nil
}

// tenantPassword returns the password in the tenant's secret, creating one
// the first time: the password exists only in Secrets Manager and the
// database, never in Pulumi state. The secret is rewritten when the
// connection facts change.
func (h *Handler) tenantPassword(ctx context.Context, ev Event) (string, error) {
	if ev.TenantSecretArn == "" {
		return "", errors.New("event needs tenantSecretArn")
	}
	var current Credentials
	out, err := h.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ev.TenantSecretArn)})
	var notFound *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		// A new secret has no value yet.
	case err != nil:
		return "", fmt.Errorf("reading the tenant secret: %w", err)
	default:
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &current); err != nil {
			return "", fmt.Errorf("the tenant secret is not credentials JSON: %w", err)
		}
	}

	want := Credentials{
		Engine: "postgres", Host: ev.Host, Port: ev.Port,
		Username: ev.Database, Password: current.Password, DBName: ev.Database,
	}
	if want.Password == "" {
		if want.Password, err = newPassword(32); err != nil {
			return "", err
		}
	}
	if want != current {
		body, _ := json.Marshal(want)
		if _, err := h.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId:     aws.String(ev.TenantSecretArn),
			SecretString: aws.String(string(body)),
		}); err != nil {
			return "", fmt.Errorf("writing the tenant secret: %w", err)
		}
	}
	return want.Password, nil
}

const passwordAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newPassword(n int) (string, error) {
	b := make([]byte, n)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generating a password: %w", err)
		}
		b[i] = passwordAlphabet[k.Int64()]
	}
	return string(b), nil
}
