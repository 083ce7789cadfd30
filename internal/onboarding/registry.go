package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Keys of the registry's items that are not tenants. A tenant id is a DNS
// label, so it can never start with '#'.
const (
	// StackFactsKey is the item each deployment writes: StackFacts as JSON
	// in its "facts" attribute.
	StackFactsKey = "#stack"
	// poolKeyPrefix + pool name counts what run-time tenants hold of a
	// pool, so that the capacity check and the tenant's creation are one
	// atomic write.
	poolKeyPrefix = "#pool#"
	// FactsAttribute holds the stack facts' JSON.
	FactsAttribute = "facts"
)

// DynamoDBAPI is the part of DynamoDB the registry uses.
type DynamoDBAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Registry is the tenant registry table.
type Registry struct {
	DB    DynamoDBAPI
	Table string
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// Facts reads what the last deployment published.
func (r *Registry) Facts(ctx context.Context) (StackFacts, error) {
	out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(r.Table), Key: key(StackFactsKey), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return StackFacts{}, fmt.Errorf("reading the stack's facts from %s: %w", r.Table, err)
	}
	raw, ok := out.Item[FactsAttribute].(*types.AttributeValueMemberS)
	if !ok {
		return StackFacts{}, fmt.Errorf("%s holds no stack facts (item %s): deploy the stack first", r.Table, StackFactsKey)
	}
	var f StackFacts
	if err := json.Unmarshal([]byte(raw.Value), &f); err != nil {
		return StackFacts{}, fmt.Errorf("the stack facts in %s are not valid: %w", r.Table, err)
	}
	return f, nil
}

// Get reads one tenant; ok is false when the registry has no such tenant.
func (r *Registry) Get(ctx context.Context, id string) (t Tenant, ok bool, err error) {
	out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(r.Table), Key: key(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Tenant{}, false, fmt.Errorf("reading tenant %s: %w", id, err)
	}
	if out.Item == nil {
		return Tenant{}, false, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, &t); err != nil {
		return Tenant{}, false, fmt.Errorf("reading tenant %s: %w", id, err)
	}
	return t, true, nil
}

// List reads every run-time tenant, sorted by id.
func (r *Registry) List(ctx context.Context) ([]Tenant, error) {
	var tenants []Tenant
	var start map[string]types.AttributeValue
	for {
		out, err := r.DB.Scan(ctx, &dynamodb.ScanInput{
			TableName: aws.String(r.Table), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("listing the tenants in %s: %w", r.Table, err)
		}
		for _, item := range out.Items {
			if id, ok := item["id"].(*types.AttributeValueMemberS); !ok || strings.HasPrefix(id.Value, "#") {
				continue
			}
			var t Tenant
			if err := attributevalue.UnmarshalMap(item, &t); err != nil {
				return nil, fmt.Errorf("listing the tenants in %s: %w", r.Table, err)
			}
			tenants = append(tenants, t)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	sortTenants(tenants)
	return tenants, nil
}

// Usage reads what run-time tenants hold of each pool.
func (r *Registry) Usage(ctx context.Context, pools []string) (map[string]Usage, error) {
	usage := map[string]Usage{}
	for _, pool := range pools {
		out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(r.Table), Key: key(poolKeyPrefix + pool), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("reading the usage of pool %s: %w", pool, err)
		}
		var u Usage
		if out.Item != nil {
			if err := attributevalue.UnmarshalMap(out.Item, &u); err != nil {
				return nil, fmt.Errorf("reading the usage of pool %s: %w", pool, err)
			}
		}
		usage[pool] = u
	}
	return usage, nil
}

// Create records a new tenant and takes its share of its pool in one
// transaction: the id must be free and the pool must still have room
// (allowance is the pool's whole allowance for run-time tenants; the
// counter holds what they have taken).
// A tenant whose id is in the registry, in any status, is never
// overwritten: that is what makes ids unique.
func (r *Registry) Create(ctx context.Context, t Tenant, allowance Usage) error {
	item, err := attributevalue.MarshalMap(t)
	if err != nil {
		return err
	}
	_, err = r.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName: aws.String(r.Table), Item: item,
				ConditionExpression: aws.String("attribute_not_exists(id)"),
			}},
			{Update: &types.Update{
				TableName:        aws.String(r.Table),
				Key:              key(poolKeyPrefix + t.Pool),
				UpdateExpression: aws.String("SET connections = if_not_exists(connections, :zero) + :c, databases = if_not_exists(databases, :zero) + :one"),
				// The counter before this tenant's share must leave it
				// room within the allowance, whatever others took since.
				ConditionExpression: aws.String("(attribute_not_exists(connections) OR connections <= :cmax) AND (attribute_not_exists(databases) OR databases <= :dmax)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":zero": num(0), ":one": num(1), ":c": num(int64(t.ConnectionLimit)),
					":cmax": num(int64(allowance.Connections - t.ConnectionLimit)), ":dmax": num(int64(allowance.Databases - 1)),
				},
			}},
		},
	})
	return cancelled(err, ErrExists, ErrNoRoom)
}

// cancelled maps a cancelled transaction's reasons to the errors of its
// items, in order.
func cancelled(err error, byItem ...error) error {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return err
	}
	for i, reason := range tc.CancellationReasons {
		if aws.ToString(reason.Code) == "ConditionalCheckFailed" && i < len(byItem) {
			return byItem[i]
		}
	}
	return err
}

// Change records a new request on an existing tenant: the status it is in
// while the worker works, the pending action and who asked. It applies
// only to the version the caller read (ErrChanged otherwise) and returns
// the tenant as written.
func (r *Registry) Change(ctx context.Context, t Tenant, status, pending, caller, now string) (Tenant, error) {
	out, err := r.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(r.Table),
		Key:                 key(t.ID),
		UpdateExpression:    aws.String("SET #status = :status, pending = :pending, version = :next, updatedAt = :now, requestedBy = :caller REMOVE lastError"),
		ConditionExpression: aws.String("version = :version"),
		ExpressionAttributeNames: map[string]string{
			"#status": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": str(status), ":pending": str(pending), ":next": num(t.Version + 1),
			":version": num(t.Version), ":now": str(now), ":caller": str(caller),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return Tenant{}, ErrChanged
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("recording the request on tenant %s: %w", t.ID, err)
	}
	var written Tenant
	if err := attributevalue.UnmarshalMap(out.Attributes, &written); err != nil {
		return Tenant{}, err
	}
	return written, nil
}

// Complete records that the worker finished the pending action of a
// version: the tenant is now in status. A newer request leaves it alone.
func (r *Registry) Complete(ctx context.Context, t Tenant, status, now string) error {
	_, err := r.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(r.Table),
		Key:                 key(t.ID),
		UpdateExpression:    aws.String("SET #status = :status, updatedAt = :now REMOVE pending, lastError"),
		ConditionExpression: aws.String("version = :version AND pending = :pending"),
		ExpressionAttributeNames: map[string]string{
			"#status": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": str(status), ":now": str(now), ":version": num(t.Version), ":pending": str(t.Pending),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrChanged
	}
	return err
}

// Fail records a failed attempt. The last attempt (final) marks the
// tenant failed; until then it keeps its status and shows the error.
func (r *Registry) Fail(ctx context.Context, t Tenant, cause string, final bool, now string) error {
	expr := "SET lastError = :err, updatedAt = :now"
	values := map[string]types.AttributeValue{":err": str(cause), ":now": str(now), ":version": num(t.Version)}
	names := map[string]string(nil)
	if final {
		expr += ", #status = :failed"
		values[":failed"] = str(StatusFailed)
		names = map[string]string{"#status": "status"}
	}
	_, err := r.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(r.Table),
		Key:                       key(t.ID),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("version = :version"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrChanged
	}
	return err
}

// Remove deletes a dropped tenant's item and gives its share of the pool
// back, in one transaction. Its id is free again afterwards.
func (r *Registry) Remove(ctx context.Context, t Tenant) error {
	return r.release(ctx, t, "version = :version AND pending = :drop",
		map[string]types.AttributeValue{":version": num(t.Version), ":drop": str(ActionDrop)})
}

// Forget hands a tenant over to the stack file, whose deployment now
// manages its database: its item goes, and its share of the pool with it
// (the stack file's tenants are counted from the stack file).
func (r *Registry) Forget(ctx context.Context, t Tenant) error {
	return r.release(ctx, t, "version = :version", map[string]types.AttributeValue{":version": num(t.Version)})
}

func (r *Registry) release(ctx context.Context, t Tenant, condition string, values map[string]types.AttributeValue) error {
	_, err := r.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Delete: &types.Delete{
				TableName: aws.String(r.Table), Key: key(t.ID),
				ConditionExpression:       aws.String(condition),
				ExpressionAttributeValues: values,
			}},
			{Update: &types.Update{
				TableName:                 aws.String(r.Table),
				Key:                       key(poolKeyPrefix + t.Pool),
				UpdateExpression:          aws.String("SET connections = connections - :c, databases = databases - :one"),
				ConditionExpression:       aws.String("attribute_exists(connections)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":c": num(int64(t.ConnectionLimit)), ":one": num(1)},
			}},
		},
	})
	return cancelled(err, ErrChanged, fmt.Errorf("pool %s has no usage recorded for tenant %s", t.Pool, t.ID))
}
