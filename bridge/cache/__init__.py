"""The encrypted last-known-good cache: what lets a gateway start while Supabase is down."""
