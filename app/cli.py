"""Command line: ``redline screen | rerun | rules check | layers … | serve`` (DESIGN §6).

Same engine and same JSON as the API. Exit code 0 whatever the verdict; 2 for bad input,
1 for other errors. Messages go to stderr in Chinese and English, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from app.links import with_links
from app.settings import Settings
from app.state import Runtime, open_runtime
from spatial.backup import backup, restore
from spatial.batch import chunks as batch
from spatial.batch.daskrun import run_dask
from spatial.batch.output import BatchWriter
from spatial.errors import DataError, InputError, RedlineError
from spatial.layers.accesslist import KIND as ACCESS_LIST
from spatial.layers.accesslist import by_dimension, import_access_list
from spatial.layers.ingest import check_declared_holds, import_layer
from spatial.layers.kinds import is_raster
from spatial.layers.load import LayerSource
from spatial.layers.store import SourceMeta
from spatial.project import ACTIVITIES, FLAGS, NATURES, TYPES
from spatial.ruleset import load_ruleset
from spatial.service import ScreeningRequest, request_from_file
from spatial.tokens import ROLES, TokenStore
from spatial.verdict import VerdictDocument, read_document


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="redline", description="重庆生态红线与环境分区管控选址筛查")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("screen", help="筛查一个场址文件 / screen a site file")
    s.add_argument("site_file", type=Path)
    s.add_argument("--industry", help="GB/T 4754-2017 行业代码，如 C2614")
    s.add_argument("--nature", choices=NATURES)
    s.add_argument("--type", dest="ptype", choices=TYPES, default="project")
    s.add_argument("--activity", action="append", choices=ACTIVITIES, default=[])
    s.add_argument("--flag", action="append", choices=FLAGS, default=[])
    s.add_argument("--name")
    s.add_argument("--crs", help="EPSG:4545 | gcj02 | bd09 …(默认 WGS84/CGCS2000)")
    s.add_argument("--radius-m", type=float, help="点状场址半径(米)")
    s.add_argument("--width-m", type=float, help="线状工程廊道宽度(米)")
    s.add_argument("--accuracy-m", type=float, default=0.0, help="场址坐标精度(米)")
    s.add_argument("--format", choices=("json", "table"), default="json")

    bt = sub.add_parser("batch", help="批量筛查地块 / screen many sites")
    bt.add_argument("sites_file", type=Path,
                    help="地块文件：GeoJSON FeatureCollection、zip 打包的 shapefile、GeoPackage、KML/KMZ")
    bt.add_argument("--out", type=Path, required=True, help="结果文件 .geojson 或 .csv")
    bt.add_argument("--industry")
    bt.add_argument("--nature", choices=NATURES)
    bt.add_argument("--type", dest="ptype", choices=TYPES, default="project")
    bt.add_argument("--crs", help="地块坐标系(默认取文件自带的坐标系，否则 WGS84/CGCS2000)")
    bt.add_argument("--radius-m", type=float)
    bt.add_argument("--width-m", type=float)
    bt.add_argument("--executor", "--engine", dest="executor", choices=("local", "dask"),
                    default="local",
                    help="local：本机工作进程(默认)；dask：经 dask-geopandas 在 Dask 上运行")
    bt.add_argument("--scheduler", help="Dask 调度器地址，如 tcp://10.0.0.5:8786(默认本机 LocalCluster)")
    bt.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="本机工作进程数 / LocalCluster 的 worker 数(默认 CPU 核数)")
    bt.add_argument("--no-progress", action="store_true", help="不显示进度条")

    r = sub.add_parser("rerun", help="按原图层版本复现一次筛查 / re-run a stored screening")
    r.add_argument("screening_id")
    r.add_argument("--current", action="store_true", help="使用当前启用的图层版本")

    rules = sub.add_parser("rules", help="规则文件 / rule files")
    rules.add_argument("action", choices=("check",))

    lay = sub.add_parser("layers", help="图层管理 / layers")
    lsub = lay.add_subparsers(dest="action", required=True)
    lsub.add_parser("list")
    imp = lsub.add_parser("import")
    imp.add_argument("kind")
    imp.add_argument("file", type=Path)
    imp.add_argument("--activate", action="store_true")
    imp.add_argument("--accuracy-m", type=float, required=True,
                     help="图层位置精度(米)，用于边界附近的待核判定")
    imp.add_argument("--coverage-adcodes", default=None,
                     help="图层完整覆盖的区县代码，逗号分隔；省略表示覆盖重庆全市")
    imp.add_argument("--geometry-role", choices=("centreline", "shoreline", "water_polygon"))
    imp.add_argument("--holds", action="append", default=None, metavar="ATTR=V1,V2",
                     help="本版本所含的要素分类(可重复)，如 --holds class=mainstem,important_tributary；"
                          "省略则取数据中出现的取值")
    imp.add_argument("--source-title", default="")
    imp.add_argument("--publisher", default="")
    imp.add_argument("--licence", default="")
    imp.add_argument("--demo", action="store_true")
    imp.add_argument("--notes", default="")
    imp.add_argument("--encoding", help="shapefile .dbf 编码(无 .cpg 时)，如 GBK")
    imp.add_argument("--table", help="GeoPackage 中的图层名")
    imp.add_argument("--crs", help="文件缺少坐标系时指定，如 EPSG:4545")
    imp.add_argument("--field-map", default=None, help='字段映射 JSON，如 {"MC": "name"}')
    imp.add_argument("--by", default="cli")
    act = lsub.add_parser("activate")
    act.add_argument("kind")
    act.add_argument("version")
    act.add_argument("--by", default="cli")
    hist = lsub.add_parser("history")
    hist.add_argument("kind")
    rb = lsub.add_parser("rollback", help="回滚到上一个启用的版本")
    rb.add_argument("kind")
    rb.add_argument("--by", default="cli")

    lists = sub.add_parser("lists", help="三线一单准入清单 / access lists")
    lisub = lists.add_subparsers(dest="action", required=True)
    limp = lisub.add_parser("import", help="导入 xlsx 或 CSV(UTF-8/GBK) 准入清单")
    limp.add_argument("file", type=Path)
    limp.add_argument("--title", required=True, help="清单名称")
    limp.add_argument("--publisher", default="")
    limp.add_argument("--date", default="")
    limp.add_argument("--licence", default="")
    limp.add_argument("--demo", action="store_true")
    limp.add_argument("--notes", default="")
    limp.add_argument("--encoding", help="CSV 编码(缺省自动识别 UTF-8 或 GBK)")
    limp.add_argument("--field-map", default=None, help='表头映射 JSON，如 {"单元代码": "unit_code"}')
    limp.add_argument("--activate", action="store_true")
    limp.add_argument("--by", default="cli")
    lact = lisub.add_parser("activate")
    lact.add_argument("version")
    lact.add_argument("--by", default="cli")
    lisub.add_parser("history")
    lrb = lisub.add_parser("rollback", help="回滚到上一个启用的版本")
    lrb.add_argument("--by", default="cli")

    tok = sub.add_parser("tokens", help="API 令牌 / API tokens")
    tsub = tok.add_subparsers(dest="action", required=True)
    tc = tsub.add_parser("create")
    tc.add_argument("--name", required=True)
    tc.add_argument("--role", required=True, choices=ROLES)
    tr = tsub.add_parser("revoke")
    tr.add_argument("token_id")
    tsub.add_parser("list")

    bk = sub.add_parser("backup", help="在线一致性备份数据目录 / consistent online backup")
    bk.add_argument("dest", type=Path)
    rs = sub.add_parser("restore", help="从备份恢复数据目录 / restore a backup")
    rs.add_argument("src", type=Path)
    rs.add_argument("--force", action="store_true", help="覆盖非空的数据目录")

    sv = sub.add_parser("serve", help="启动服务 / start the HTTP service")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1,
                    help="工作进程数(建议=CPU核数；每个进程各自索引图层)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``redline`` console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    try:
        return _dispatch(args, settings)
    except RedlineError as exc:
        print(f"错误 [{exc.code}]:{exc.message_zh}\nerror [{exc.code}]: {exc.message_en}",
              file=sys.stderr)
        if isinstance(exc, DataError) and exc.details.get("report"):
            print(_json(exc.details), file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 1
    except OSError as exc:  # unreadable data directory, full disk, permissions
        print(f"错误 [io]：无法访问文件或目录：{exc.filename or exc}\nerror [io]: {exc.strerror or exc}",
              file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "rules":
        rs = load_ruleset(settings.rules_dir)
        cat = rs.catalogue
        classes = cat.classes()
        uncategorised = sum(1 for c in classes if not cat.categories_of(c))
        print(f"规则校验通过：{len(rs.rules)} 条规则，{len(rs.files)} 个文件；"
              f"行业代码 {len(cat.codes)} 个，类别 {len(cat.categories)} 个")
        # load_ruleset refused any rule naming an unknown category or code, and any category
        # or synonym listing a code outside the GB/T 4754-2017 table
        print(f"GB/T 4754-2017：{len(classes)} 个小类，{len(classes) - uncategorised} 个属于至少一个类别，"
              f"{uncategorised} 个不属于任何类别（无）；同义词 {len(cat.synonyms)} 条；"
              f"各类别、同义词所列代码均在代码表中（逐一列表见 docs/industry-categories.md）")
        print(f"rules_version {rs.sha256}")
        return 0
    if args.command == "serve":
        from app.server import serve

        serve(settings, args.host, args.port, args.workers)
        return 0
    if args.command == "restore":
        manifest = restore(args.src, settings.home, force=args.force)
        print(f"已恢复到 {settings.home}：{manifest['layer_files']} 个图层文件，"
              f"{manifest['screenings']} 条筛查记录(备份于 {manifest['created_at']})")
        return 0
    runtime = open_runtime(settings)
    if args.command == "backup":
        manifest = backup(runtime.store, args.dest)
        print(f"已备份到 {args.dest}：{manifest['layer_files']} 个图层文件，"
              f"{manifest['screenings']} 条筛查记录")
        return 0
    if args.command == "batch":
        return _batch(args, runtime)
    if args.command == "screen":
        doc = with_links(runtime.service.screen(_screen_request(args)))
        print(_table(read_document(doc)) if args.format == "table" else _json(doc))
    elif args.command == "rerun":
        out = runtime.service.rerun(args.screening_id, current=args.current)
        print(_json({**out, "original": with_links(out["original"])}))
    elif args.command == "tokens":
        _tokens(args, runtime)
    elif args.command == "lists":
        _lists(args, runtime)
    else:
        _layers(args, runtime)
    return 0


def _batch(args: argparse.Namespace, runtime: Runtime) -> int:
    out_fmt = args.out.suffix.lower()
    if out_fmt not in (".geojson", ".json", ".csv"):
        raise InputError("--out 须为 .geojson 或 .csv", "--out must end in .geojson or .csv",
                         code="batch.out_format")
    if args.workers < 1:
        raise InputError("--workers 至少为 1", "--workers must be at least 1",
                         code="batch.workers_invalid")
    features, file_crs = batch.read_sites(args.sites_file)
    project = {k: v for k, v in {"industry": args.industry, "nature": args.nature,
                                 "type": args.ptype}.items() if v}
    opts = batch.BatchOptions(project, args.crs or file_crs, args.radius_m, args.width_m)
    source = batch.data_source(runtime.service, runtime.settings.rules_dir)
    bar = tqdm(total=len(features), unit="地块", disable=args.no_progress, file=sys.stderr,
               dynamic_ncols=True, desc="批量筛查")

    def progress(done: int, total: int, rate: float) -> None:
        bar.update(done - bar.n)
        bar.set_postfix_str(f"{rate:.0f} 个/秒")

    if args.executor == "dask":
        chunks = run_dask(source, features, opts, scheduler=args.scheduler,
                          workers=args.workers, progress=progress)
    elif args.workers == 1 or len(features) <= batch.CHUNK:
        chunks = ([r] for r in batch.rows(runtime.service, features, opts, progress))
    else:
        chunks = batch.run(source, features, opts, workers=args.workers, progress=progress)
    tmp = args.out.with_name(args.out.name + ".part")
    writer = BatchWriter(tmp, "csv" if out_fmt == ".csv" else "geojson")
    try:
        for chunk in chunks:
            writer.write(chunk)
    except KeyboardInterrupt:
        writer.close()
        bar.close()
        print(f"已中断：已完成的 {writer.count} 行保存在 {tmp}", file=sys.stderr)
        return 130
    writer.close()
    bar.close()
    tmp.replace(args.out)  # never a half-written result file under the final name
    print("；".join(f"{k} {n}" for k, n in writer.counts.items()))
    return 0


def _tokens(args: argparse.Namespace, runtime: Runtime) -> None:
    tokens = TokenStore(runtime.store)
    if args.action == "create":
        token, info = tokens.create(args.name, args.role)
        print(f"令牌(只显示这一次，请妥善保存)：\n{token}\nid {info.id}  角色 {info.role}  名称 {info.name}")
    elif args.action == "revoke":
        info = tokens.revoke(args.token_id)
        print(f"已撤销 {info.id} ({info.name})")
    else:
        for t in tokens.list():
            state = f"已撤销 {t.revoked_at}" if t.revoked_at else "有效"
            print(f"{t.id}  {t.role:10}  {t.created_at}  {state}  {t.name}")


def _screen_request(args: argparse.Namespace) -> ScreeningRequest:
    project: dict[str, Any] = {"industry": args.industry, "nature": args.nature,
                               "type": args.ptype, "activity": args.activity,
                               "flags": args.flag, "name": args.name}
    return request_from_file(
        args.site_file, {k: v for k, v in project.items() if v not in (None, [])},
        crs=args.crs, radius_m=args.radius_m, corridor_width_m=args.width_m,
        accuracy_m=args.accuracy_m,
    )


def _layers(args: argparse.Namespace, runtime: Runtime) -> None:
    store = runtime.store
    if args.action == "list":
        active = store.active_versions()
        for kind, lv in sorted(active.items()):
            demo = " demo" if lv.meta.demo else ""
            print(f"{kind:22} {lv.version}  {lv.feature_count:6d} 要素  ±{lv.meta.accuracy_m:g}m"
                  f"{demo}  {lv.meta.title}")
    elif args.action == "import":
        coverage = ([c.strip() for c in args.coverage_adcodes.split(",") if c.strip()]
                    if args.coverage_adcodes else None)
        meta = SourceMeta(title=args.source_title or args.file.name, publisher=args.publisher,
                          licence=args.licence, accuracy_m=args.accuracy_m, demo=args.demo,
                          coverage_adcodes=coverage, geometry_role=args.geometry_role,
                          notes=args.notes, holds=_holds(args.kind, args.holds))
        source = LayerSource(args.file, encoding=args.encoding, table=args.table, crs=args.crs,
                             field_map=_field_map(args.field_map))
        lv, notes = import_layer(store, args.kind, args.file, meta, loaded_by=args.by,
                                 activate=args.activate, source=source)
        for note in notes:
            print(f"提示：{note}", file=sys.stderr)
        print(_json(lv.public()))
    elif args.action == "rollback":
        lv = store.rollback(args.kind, actor=args.by)
        print(f"已回滚，当前启用 {lv.kind} {lv.version}")
    elif args.action == "activate":
        lv = store.activate(args.kind, args.version, actor=args.by)
        print(f"已启用 {lv.kind} {lv.version}")
    elif args.action == "history":
        current = store.active_versions().get(args.kind)
        for lv in store.versions(args.kind):
            mark = "*" if current and current.version == lv.version else " "
            print(f"{mark} {lv.version}  {lv.loaded_at}  {lv.loaded_by or '-':10}  "
                  f"sha256:{lv.sha256}  {lv.meta.title}")


def _lists(args: argparse.Namespace, runtime: Runtime) -> None:
    """``redline lists import|activate|history|rollback``: the layer commands for the list."""
    if args.action == "import":
        meta = SourceMeta(title=args.title, publisher=args.publisher, date=args.date,
                          licence=args.licence, demo=args.demo, notes=args.notes)
        lv = import_access_list(runtime.store, args.file, meta, runtime.rules.catalogue,
                                loaded_by=args.by, activate=args.activate,
                                encoding=args.encoding, field_map=_field_map(args.field_map))
        for w in lv.validation.get("warnings", []):
            print(f"提示：{w}", file=sys.stderr)
        print(_json(lv.public()))
        return
    args.kind = ACCESS_LIST
    _layers(args, runtime)


def _field_map(text: str | None) -> dict[str, str]:
    try:
        field_map = json.loads(text) if text else {}
        if not isinstance(field_map, dict):
            raise ValueError
        return {str(k): str(v) for k, v in field_map.items()}
    except ValueError as exc:
        raise InputError("--field-map 不是合法的JSON对象", "--field-map is not a JSON object",
                         code="layer.field_map_invalid") from exc


def _holds(kind: str, items: list[str] | None) -> dict[str, list[str]] | None:
    """``--holds ATTR=V1,V2`` (repeatable; one attribute's values are merged) as the API's
    ``holds`` field: {attribute: [values]}, checked as the import checks it (declare_holds: an
    attribute of the kind with a closed domain, values in it) before anything is stored, so
    that a typo is not recorded as a refused version whose content then cannot be imported
    again with the right declaration. That the data holds no undeclared value is checked at
    import."""
    if not items:
        return None
    if is_raster(kind):
        raise InputError("栅格图层没有要素分类，不能使用 --holds", "Raster layers take no --holds",
                         code="layer.holds_invalid")
    holds: dict[str, list[str]] = {}
    for item in items:
        name, sep, rest = item.partition("=")
        values = [v.strip() for v in rest.split(",") if v.strip()]
        if not sep or not name.strip() or not values:
            raise InputError(f"--holds 须写作 属性=取值1,取值2，如 class=mainstem(收到 {item!r})",
                             f"--holds must be ATTR=V1,V2, e.g. class=mainstem (got {item!r})",
                             code="layer.holds_invalid")
        holds.setdefault(name.strip(), []).extend(values)  # import sorts and de-duplicates
    check_declared_holds(kind, SourceMeta(title="", holds=holds))
    return holds


def _json(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _table(doc: VerdictDocument) -> str:
    lines = [f"结论：{doc.verdict_zh} ({doc.verdict})    id {doc.id}", doc.summary_zh, ""]
    for f in doc.findings:
        m = f.measure
        if m.get("distance_m") is not None:
            measure = f"距离 {m['distance_m']} m / 阈值 {m.get('threshold_m', '-')} m"
        elif "overlap_m2" in m:
            measure = f"重叠 {m['overlap_m2']} m² ({m['overlap_share']:.1%})"
        elif "outside_m2" in m:
            measure = f"范围外 {m['outside_m2']} m² ({m['outside_share']:.1%})"
        else:
            measure = ""
        flag = " [边界待核]" if f.borderline else ""
        lines.append(f"- {f.verdict_zh}{flag} {f.rule_id}: {f.title_zh}  {measure}")
        unverified = " [依据待核实]" if f.basis.get("verified") is False else ""
        lines.append(f"    依据：{f.basis['document']} {f.basis['clause']}{unverified}")
        quote = f.basis.get("quote_zh_hans") or f.basis["quote"]
        lines.append(f"    原文：“{quote}”")
        if f.interpretation_zh:
            lines.append(f"    本工具解释：{f.interpretation_zh}")
        if f.exception_refused_zh:
            lines.append(f"    未采纳的申报：{'；'.join(f.exception_refused_zh)}")
    for g in doc.not_evaluated:
        lines.append(f"- 无法评估 {g.rule_id or ''}: {g.reason}")
    for u in doc.control_units:
        n = "未启用准入清单" if u.get("requirements") is None else f"准入清单 {u['requirements']} 条"
        lines.append(f"环境管控单元 {u['code']} {u['name']}({u.get('type_zh') or u['type']}，"
                     f"占场址 {u['share']:.1%}，{n})")
    checklist = doc.checklist
    if checklist:
        lines.append("须逐条核对(本工具无法自动判定；标“禁止性”者未经确认不得视为通过)：")
        for dim, items in by_dimension(checklist):
            lines.append(f"  【{dim}】")
            lines += [f"  [ ] {c['unit_code']} {c['text']}" + (" (禁止性)" if c["prohibitive"]
                                                               else "") for c in items]
    lines.append(f"\n规则集 {doc.rules_version[:12]} · 图层 "
                 + ", ".join(f"{x['kind']}@{x['version'][:8]}" for x in doc.layers))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
