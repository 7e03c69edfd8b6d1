"""CrossGuard policy packs (see substrate/ for the pack Substrate ships)."""
