// Package applytest proves that the generated Terraform applies: it runs
// terraform init, apply and destroy of the module in terraform/ against moto,
// checks every created resource through the AWS SDK, and
// drives webhooks through what was applied — the real forward, deliver and
// notify bootstraps under aws-lambda-rie, the applied state machine on moto's
// Step Functions executor — before destroying it all.
//
// The package holds only tests; testdata/moto_launcher.py starts moto with
// the few patches of its 5.2.1 gaps the test needs (each documented there and
// in docs/testing.md). Run it with
//
//	go test ./internal/testkit/applytest -run TestApplyOnMoto -v
package applytest
