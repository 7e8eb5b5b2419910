namespace Hub.Store.Config;

/// <summary>An account's settings document (API.md section 3, "Config"), stored as snake_case JSON.</summary>
public sealed record TenantConfig
{
    public IReadOnlyList<string> CrmOrigins { get; init; } = [];
    public IReadOnlyList<string> WebphoneOrigins { get; init; } = [];
    public IReadOnlyList<string> FrameAncestors { get; init; } = [];
    public IReadOnlyList<string> PortalOrigins { get; init; } = [];
    public ScreenPopSettings? ScreenPop { get; init; }
    public CrmLookupSettings? CrmLookup { get; init; }
    /// <summary>Calling code ("84") or region code ("VN") national-form numbers are read in; unset means <c>Hub:DefaultCountryCode</c>.</summary>
    public string? DefaultCountryCode { get; init; }
    public int? CallRetentionDays { get; init; }
}

public sealed record ScreenPopSettings
{
    /// <summary>For example <c>https://crm.example/contacts/{external_id}</c>.</summary>
    public string? RecordUrlTemplate { get; init; }

    /// <summary>For example <c>https://crm.example/contacts/new?phone={number}</c>.</summary>
    public string? NewContactUrlTemplate { get; init; }
}

public sealed record CrmLookupSettings
{
    public string? Url { get; init; }
    public int? TimeoutMs { get; init; }

    /// <summary>Signs lookup requests (Standard Webhooks; <c>whsec_</c> + base64 or any string) so the CRM can tell they come from the hub.</summary>
    public string? Secret { get; init; }

    /// <summary>How long a caller the CRM knows is reused (default 300 s, 0 = off).</summary>
    public int? CacheSeconds { get; init; }

    /// <summary>How long a caller the CRM does not know is reused (default 60 s, 0 = off).</summary>
    public int? MissCacheSeconds { get; init; }
}

/// <summary>The config in force for an account and where it came from.</summary>
public sealed record EffectiveConfig(TenantConfig Config, string Scope, bool Inherited);
