module github.com/webhookq/webhookq

go 1.26.8

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/credentials v1.21.0
)

require github.com/aws/smithy-go v1.28.9 // indirect
