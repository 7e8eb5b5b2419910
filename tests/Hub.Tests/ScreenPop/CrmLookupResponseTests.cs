using System.Text;
using Hub.Consumers.ScreenPop.CrmLookup;

namespace Hub.Tests.ScreenPop;

public sealed class CrmLookupResponseTests
{
    private static IReadOnlyList<Hub.Contracts.ScreenPopMatch> Parse(string body) => CrmLookupResponse.Parse(Encoding.UTF8.GetBytes(body));

    [Theory]
    [InlineData("")]
    [InlineData("  \n")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"matches\": []}")]
    [InlineData("{\"matches\": null}")]
    public void Empty_answers_are_not_known(string body) => Assert.Empty(Parse(body));

    [Theory]
    [InlineData("not json")]
    [InlineData("\"c-1\"")]
    [InlineData("42")]
    [InlineData("{\"error\": \"database down\"}")]
    [InlineData("{\"matches\": \"c-1\"}")]
    public void Unreadable_answers_are_failures(string body) => Assert.Throws<CrmLookupException>(() => Parse(body));

    [Fact]
    public void Matches_object_is_read_field_by_field()
    {
        var match = Assert.Single(Parse("""
            {"matches": [{"external_id": "c-1", "display_name": "Nguyen Van A", "company": "Acme",
                          "url": "https://crm.example/c-1", "custom_fields": {"tier": "gold"}}]}
            """));

        Assert.Equal("c-1", match.ExternalId);
        Assert.Equal("Nguyen Van A", match.DisplayName);
        Assert.Equal("Acme", match.Company);
        Assert.Equal("https://crm.example/c-1", match.Url);
        Assert.Equal("gold", match.CustomFields!.Value.GetProperty("tier").GetString());
    }

    [Fact]
    public void Bare_array_single_object_and_other_spellings_are_accepted()
    {
        var array = Parse("""[{"id": 42, "name": "Bob"}, {"externalId": "c-2", "displayName": "Carol", "customFields": {"a": 1}}]""");
        var single = Parse("""{"external_id": "c-3"}""");

        Assert.Equal(["42", "c-2"], array.Select(match => match.ExternalId));
        Assert.Equal(["Bob", "Carol"], array.Select(match => match.DisplayName));
        Assert.Equal(1, array[1].CustomFields!.Value.GetProperty("a").GetInt32());
        Assert.Equal("c-3", Assert.Single(single).DisplayName);
    }

    [Fact]
    public void Entries_without_an_id_and_repeated_ids_are_skipped()
    {
        var matches = Parse("""[{"display_name": "No id"}, "text", {"external_id": "c-1"}, {"external_id": "c-1", "display_name": "Again"}]""");

        Assert.Equal("c-1", Assert.Single(matches).DisplayName);
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("/relative")]
    [InlineData("data:text/html,hi")]
    public void Url_that_is_not_absolute_http_is_dropped(string url)
    {
        var match = Assert.Single(Parse($$"""[{"external_id": "c-1", "url": "{{url}}", "custom_fields": "not an object"}]"""));

        Assert.Null(match.Url);
        Assert.Null(match.CustomFields);
    }

    [Fact]
    public void At_most_50_matches_are_kept()
    {
        var body = "[" + string.Join(",", Enumerable.Range(0, 80).Select(i => $$"""{"external_id": "c-{{i}}"}""")) + "]";

        Assert.Equal(CrmLookupResponse.MaxMatches, Parse(body).Count);
    }

    [Fact]
    public void Byte_order_mark_is_ignored()
    {
        var body = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("""[{"external_id": "c-1"}]""")).ToArray();

        Assert.Single(CrmLookupResponse.Parse(body));
    }
}

public sealed class CrmLookupTargetTests
{
    [Theory]
    [InlineData("https://crm.example/lookup", true)]
    [InlineData("https://crm.example:8443/api/lookup?key=1", true)]
    [InlineData("http://127.0.0.1:5000/lookup", true)]
    [InlineData("http://localhost/lookup", true)]
    [InlineData("http://[::1]:8080/lookup", true)]
    [InlineData("http://crm.example/lookup", false)]
    [InlineData("http://10.0.0.5/lookup", false)]
    [InlineData("http://localhost.crm.example/lookup", false)]
    [InlineData("ftp://crm.example/lookup", false)]
    [InlineData("https://user:pass@crm.example/lookup", false)]
    [InlineData("https://crm.example/lookup#x", false)]
    [InlineData("/lookup", false)]
    [InlineData("", false)]
    public void Only_https_or_http_to_loopback_is_called(string url, bool allowed) =>
        Assert.Equal(allowed, CrmLookupTarget.IsAllowedUrl(url, out _));

    [Theory]
    [InlineData(null, 1500)]
    [InlineData(10, 100)]
    [InlineData(300, 300)]
    [InlineData(60_000, 10_000)]
    public void Timeout_defaults_to_1500_ms_and_is_clamped(int? timeoutMs, int expected)
    {
        var target = CrmLookupTarget.From(new Hub.Store.Config.CrmLookupSettings { Url = "https://crm.example/lookup", TimeoutMs = timeoutMs })!;

        Assert.Equal(TimeSpan.FromMilliseconds(expected), target.Timeout);
    }

    [Fact]
    public void Missing_secret_and_cache_times_default_to_unsigned_300_s_and_60_s()
    {
        var target = CrmLookupTarget.From(new Hub.Store.Config.CrmLookupSettings { Url = "https://crm.example/lookup" })!;

        Assert.Null(target.Secret);
        Assert.Equal(TimeSpan.FromSeconds(300), target.HitCacheTime);
        Assert.Equal(TimeSpan.FromSeconds(60), target.MissCacheTime);
    }

    [Fact]
    public void No_url_is_no_lookup()
    {
        Assert.Null(CrmLookupTarget.From(null));
        Assert.Null(CrmLookupTarget.From(new Hub.Store.Config.CrmLookupSettings { TimeoutMs = 500 }));
    }

    [Fact]
    public void Refused_url_still_gives_a_target_without_an_endpoint()
    {
        var target = CrmLookupTarget.From(new Hub.Store.Config.CrmLookupSettings { Url = "http://crm.example/lookup" })!;

        Assert.Null(target.Endpoint);
    }
}
