CREATE OR REPLACE FUNCTION vault_bridge.default_rotate_every(p_type text)
RETURNS interval
LANGUAGE sql
IMMUTABLE
SECURITY DEFINER
SET search_path = ''
AS $$
  SELECT CASE WHEN p_type = ANY (ARRAY['openai', 'anthropic', 'gemini', 'openrouter']) THEN interval '90 days'
              WHEN p_type = ANY (ARRAY['gcp-service-account', 'aws', 'azure']) THEN interval '180 days' END
$$;
COMMENT ON FUNCTION vault_bridge.default_rotate_every(text) IS
  'Internal. The rotation interval a type gets unless one is given: API keys every 90 days, service credentials every 180 days, generic secrets never (NULL).';
