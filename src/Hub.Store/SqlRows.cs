using System.Text;
using Dapper;

namespace Hub.Store;

/// <summary>
/// The rows of a multi-row <c>INSERT</c> and their parameters: one round trip writes a whole batch.
/// </summary>
public static class SqlRows
{
    /// <summary>
    /// The rows as the dialect takes them best, to follow <c>INSERT INTO t (columns)</c>. PostgreSQL gets one
    /// array parameter per column, unnested: the statement's text does not depend on the number of rows, and
    /// 200 rows of 11 columns bind 11 parameters instead of 2,200. SQLite gets a <c>VALUES</c> list. <paramref name="types"/> are the columns' PostgreSQL types: <c>text</c>,
    /// <c>bigint</c> or <c>integer</c>.
    /// </summary>
    public static (string Rows, DynamicParameters Parameters) Of<T>(SqlDialect dialect, IReadOnlyList<T> rows, string[] types,
        Func<T, object?[]> columns)
    {
        if (dialect == SqlDialect.Sqlite)
        {
            var (values, valueParameters) = Values(rows, columns);
            return ("VALUES " + values, valueParameters);
        }

        var arrays = types.Select(type => type switch
        {
            "text" => (Array)new string?[rows.Count],
            "bigint" => new long?[rows.Count],
            "integer" => new int?[rows.Count],
            _ => throw new ArgumentException($"No array for PostgreSQL type {type}.", nameof(types)),
        }).ToArray();
        for (var r = 0; r < rows.Count; r++)
        {
            var values = columns(rows[r]);
            for (var c = 0; c < types.Length; c++)
            {
                arrays[c].SetValue(values[c] switch
                {
                    null => null,
                    int number when types[c] == "bigint" => (long)number,
                    long number when types[c] == "integer" => checked((int)number),
                    var value => value,
                }, r);
            }
        }

        var parameters = new DynamicParameters();
        var sql = new StringBuilder("SELECT * FROM unnest(");
        for (var c = 0; c < types.Length; c++)
        {
            sql.Append(c == 0 ? "@c" : ", @c").Append(c).Append("::").Append(types[c]).Append("[]");
            parameters.Add($"c{c}", arrays[c]);
        }

        return (sql.Append(')').ToString(), parameters);
    }

    public static (string Values, DynamicParameters Parameters) Values<T>(IReadOnlyList<T> rows, Func<T, object?[]> columns)
    {
        var sql = new StringBuilder();
        var parameters = new DynamicParameters();
        for (var r = 0; r < rows.Count; r++)
        {
            var values = columns(rows[r]);
            sql.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < values.Length; c++)
            {
                var name = $"r{r}c{c}";
                sql.Append(c == 0 ? "@" : ", @").Append(name);
                parameters.Add(name, values[c]);
            }

            sql.Append(')');
        }

        return (sql.ToString(), parameters);
    }
}
