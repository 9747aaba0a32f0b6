package store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Key attribute names.
const (
	AttrPK = "pk"
	AttrSK = "sk"
)

// TableDefinition is the table's shape: the one definition that the local
// stack creates tables from and that template.yaml must declare.
type TableDefinition struct {
	KeySchema            []types.KeySchemaElement
	AttributeDefinitions []types.AttributeDefinition
	BillingMode          types.BillingMode
	// GlobalSecondaryIndexes is empty: every read is a key lookup or a
	// Query on the base table (the keyword index lives in the table itself).
	GlobalSecondaryIndexes []types.GlobalSecondaryIndex
	// StreamViewType is the table's stream: the leaderboards' index reads
	// every write of a statistics item, before and after.
	StreamViewType types.StreamViewType
}

// Definition returns the table's definition.
func Definition() TableDefinition {
	return TableDefinition{
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		BillingMode:    types.BillingModePayPerRequest,
		StreamViewType: types.StreamViewTypeNewAndOldImages,
	}
}
