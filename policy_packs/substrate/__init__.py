"""The `substrate` CrossGuard pack. `pulumi preview --policy-pack policy_packs/substrate` runs
__main__.py here; tests and `substrate plan` import the policies from `policies/` directly."""
