using System.Text;
using System.Text.RegularExpressions;

namespace Hub.Api.Calls;

/// <summary>
/// One CSV cell as RFC 4180 writes it, made safe for spreadsheets: a text cell a spreadsheet would run
/// as a formula (it starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or carriage return; OWASP's
/// list) gets a leading <c>'</c>. The one exception is a number in canonical E.164 form (<c>+</c> and
/// digits only): it cannot hold a formula, and analysts search and join on it, so it stays as it is.
/// </summary>
internal static partial class CsvField
{
    public static void Append(StringBuilder line, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !E164().IsMatch(value))
        {
            value = "'" + value;
        }

        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            line.Append(value);
            return;
        }

        line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    [GeneratedRegex(@"^\+[0-9]{1,15}$")]
    private static partial Regex E164();
}
