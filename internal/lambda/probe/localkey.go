package probe

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// LocalKey is a probe key held in memory, for where there is no KMS (the
// local twin): it answers GenerateMac and VerifyMac as KMS answers them for
// an HMAC_256 key, including KMSInvalidMacException for a MAC that does not
// verify.
type LocalKey struct {
	// ARN names the key; a request for another key is NotFoundException.
	ARN    string
	secret []byte
}

// NewLocalKey makes a key with 256 random bits under arn.
func NewLocalKey(arn string) (*LocalKey, error) {
	k := &LocalKey{ARN: arn, secret: make([]byte, 32)}
	if _, err := rand.Read(k.secret); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *LocalKey) check(keyID string, alg kmstypes.MacAlgorithmSpec) error {
	if keyID != k.ARN {
		return &kmstypes.NotFoundException{Message: aws.String(fmt.Sprintf("Key '%s' does not exist", keyID))}
	}
	if alg != Algorithm {
		return &kmstypes.InvalidKeyUsageException{Message: aws.String("the probe key is an HMAC_256 key: use " + string(Algorithm))}
	}
	return nil
}

func (k *LocalKey) mac(msg []byte) []byte {
	h := hmac.New(sha256.New, k.secret)
	h.Write(msg)
	return h.Sum(nil)
}

// GenerateMac is kms:GenerateMac.
func (k *LocalKey) GenerateMac(_ context.Context, in *kms.GenerateMacInput, _ ...func(*kms.Options)) (*kms.GenerateMacOutput, error) {
	if err := k.check(aws.ToString(in.KeyId), in.MacAlgorithm); err != nil {
		return nil, err
	}
	return &kms.GenerateMacOutput{KeyId: aws.String(k.ARN), Mac: k.mac(in.Message), MacAlgorithm: in.MacAlgorithm}, nil
}

// VerifyMac is kms:VerifyMac.
func (k *LocalKey) VerifyMac(_ context.Context, in *kms.VerifyMacInput, _ ...func(*kms.Options)) (*kms.VerifyMacOutput, error) {
	if err := k.check(aws.ToString(in.KeyId), in.MacAlgorithm); err != nil {
		return nil, err
	}
	if !hmac.Equal(in.Mac, k.mac(in.Message)) {
		return nil, &kmstypes.KMSInvalidMacException{Message: aws.String("the MAC does not verify")}
	}
	return &kms.VerifyMacOutput{KeyId: aws.String(k.ARN), MacValid: true, MacAlgorithm: in.MacAlgorithm}, nil
}
