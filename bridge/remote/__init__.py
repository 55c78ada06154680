"""Services the bridge sends to besides Supabase's database: the Management API (Edge Function secrets) and a
notification webhook. Each call is one guarded HTTP request (bridge.remote.http)."""
