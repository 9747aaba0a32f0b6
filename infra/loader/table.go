package loader

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/store"
)

// CreateTable creates the named table from Definition and waits until it is
// active. An existing table with the same key schema is left as it is
// (created is false); one with another key schema is an error.
func CreateTable(ctx context.Context, client *dynamodb.Client, name string) (created bool, err error) {
	return createTable(ctx, client, name, true)
}

// CreateTableWithoutStream is CreateTable for a table no index reads:
// DynamoDB Local writes are slower with a stream, and the tests and
// benchmarks that do not rank players need none.
func CreateTableWithoutStream(ctx context.Context, client *dynamodb.Client, name string) (created bool, err error) {
	return createTable(ctx, client, name, false)
}

func createTable(ctx context.Context, client *dynamodb.Client, name string, stream bool) (created bool, err error) {
	def := store.Definition()
	in := &dynamodb.CreateTableInput{
		TableName:              aws.String(name),
		KeySchema:              def.KeySchema,
		AttributeDefinitions:   def.AttributeDefinitions,
		BillingMode:            def.BillingMode,
		GlobalSecondaryIndexes: def.GlobalSecondaryIndexes,
	}
	if stream {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: def.StreamViewType}
	}
	_, err = client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	switch {
	case err == nil:
		created = true
	case errors.As(err, &inUse):
		out, derr := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if derr != nil {
			return false, fmt.Errorf("describe table %s: %w", name, derr)
		}
		if !sameKeys(out.Table.KeySchema, def.KeySchema) {
			return false, fmt.Errorf("table %s exists with another key schema", name)
		}
	default:
		return false, fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
		return created, fmt.Errorf("wait for table %s: %w", name, err)
	}
	return created, nil
}

func sameKeys(a, b []types.KeySchemaElement) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if aws.ToString(a[i].AttributeName) != aws.ToString(b[i].AttributeName) || a[i].KeyType != b[i].KeyType {
			return false
		}
	}
	return true
}
