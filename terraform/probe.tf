# The probe key: cmd/check sends each route a probe webhook whose MAC it
# makes with this KMS HMAC key (kms:GenerateMac, the operator's own rights);
# deliver checks the MAC (kms:VerifyMac, its only permission on the key) and
# answers the probe instead of delivering it (internal/lambda/probe). No
# secret exists outside KMS: not in routes.yaml, the state or the functions.
#
# An HMAC key costs a customer managed key's monthly fee; MACs are made and
# checked only when cmd/check runs.

resource "aws_kms_key" "probe" {
  description              = "webhookq ${local.service}: MACs of post-deploy probes (cmd/check makes them, deliver checks them)"
  key_usage                = "GENERATE_VERIFY_MAC"
  customer_master_key_spec = "HMAC_256"
  deletion_window_in_days  = 7
}

resource "aws_kms_alias" "probe" {
  name          = "alias/${local.service}-probe"
  target_key_id = aws_kms_key.probe.key_id
}
