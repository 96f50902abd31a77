"""The price table a plan is costed with: AWS list prices, as data with a date and a source.

attak ships one table (``price_tables/aws-*.json``, the newest is the default); ``attak plan
--prices FILE`` reads another with the same shape, so prices are updated by editing data,
not code. Every price is read as a ``Decimal`` from a string, so no binary rounding creeps
into a bill.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import known
from .quantities import PlanError

ARCHITECTURES = ("arm64", "x86_64")


@dataclass(frozen=True)
class RegionPrices:
    """One region's prices, in the table's currency."""

    region: str
    shard_hour: Decimal
    put_payload_units_per_million: Decimal
    on_demand_stream_hour: Decimal
    on_demand_ingest_per_gb: Decimal
    on_demand_retrieval_per_gb: Decimal
    lambda_requests_per_million: Decimal
    lambda_gb_second: dict[str, Decimal]
    sqs_requests_per_million: Decimal
    alarm_month: Decimal
    dashboard_month: Decimal
    log_ingestion_per_gb: Decimal
    storm_instance_hour: Decimal
    """An m1.large on-demand instance: the seed's Storm cluster is four of them."""
    custom_metric_month: Decimal = Decimal("0.30")
    """A CloudWatch custom metric (the runtime's failure counts), per metric and month;
    a table from before it was priced gets this list price."""
    kms_key_month: Decimal = Decimal("1.00")
    """A customer managed KMS key (an ``alerts:`` topic's), per month; likewise."""
    firehose_ingest_per_gb: Decimal = Decimal("0.029")
    """Firehose Direct PUT ingestion per GB, each record rounded up to 5 KB (writes to an
    existing delivery stream); likewise."""
    advantage: AdvantagePrices | None = None
    """Kinesis On-demand Advantage; ``None`` in a table without them."""
    cluster: ClusterPrices | None = None
    """What a self-managed cluster and Managed Flink cost; ``None`` in a table without them
    (the plan then compares with the seed's cluster only)."""
    unconfirmed: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdvantagePrices:
    """Kinesis On-demand Advantage: an account-wide commitment to a minimum throughput in
    exchange for no stream-hour charge and lower per-GB prices."""

    ingest_per_gb: Decimal
    retrieval_per_gb: Decimal
    minimum_mib_per_second: Decimal
    """The ingest the account is billed for at least, whatever it writes."""


@dataclass(frozen=True)
class ClusterPrices:
    """The parts of the alternatives a plan is compared with."""

    worker_hour: Decimal
    """c7g.xlarge (4 vCPU, 8 GiB): a Storm supervisor."""
    coordinator_hour: Decimal
    """m7g.large (2 vCPU, 8 GiB): Storm's Nimbus and UI."""
    zookeeper_hour: Decimal
    """t4g.medium (2 vCPU, 4 GiB): a ZooKeeper node."""
    volume_gb_month: Decimal
    """EBS gp3, for each node's disk."""
    kpu_hour: Decimal
    """Managed Service for Apache Flink: one KPU (1 vCPU, 4 GB)."""
    kpu_storage_gb_month: Decimal
    """Managed Flink's running application storage, 50 GB per KPU."""


@dataclass(frozen=True)
class PriceTable:
    """Prices by region, with where they come from and when they were checked."""

    name: str
    checked: str
    currency: str
    hours_per_month: Decimal
    sources: dict[str, str]
    regions: dict[str, RegionPrices]
    file: str

    def region(self, name: str) -> RegionPrices:
        if name not in self.regions:
            raise PlanError(
                f"the price table has no prices for region '{name}' ({known(self.regions)}); "
                "pick one of those with --region, or pass a table that has it with --prices FILE"
            )
        return self.regions[name]


def default_table_file() -> Path:
    """The newest table shipped with attak."""
    folder = resources.files("attak_cdk.plan") / "price_tables"
    return Path(
        str(max((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name))
    )


def read_prices(file: str | Path | None = None) -> PriceTable:
    """Read a price table (the shipped one by default); a bad table is a ``PlanError``."""
    path = Path(file) if file is not None else default_table_file()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"cannot read the price table {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"the price table {path} is not JSON: {exc}") from None
    reader = _TableReader(str(path))
    return reader.table(document)


class _TableReader:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, problem: str) -> PlanError:
        return PlanError(
            f"the price table {self.file} is not usable: {where}: {problem}; see the shipped "
            f"table ({default_table_file().name}) for the shape"
        )

    def field(self, data: Any, path: str) -> Any:
        value: Any = data
        for key in path.split("/"):
            if not isinstance(value, dict) or key not in value:
                raise self.fail(path.replace("/", "."), "missing")
            value = value[key]
        return value

    def price(self, data: Any, path: str, where: str) -> Decimal:
        value = self.field(data, path)
        try:
            price = Decimal(str(value)) if not isinstance(value, bool) else None
        except InvalidOperation:
            price = None
        if price is None or not price.is_finite() or price < 0:
            raise self.fail(
                f"{where}.{path.replace('/', '.')}",
                "a price must be a number of at least 0, best written as a string "
                f"(given {value!r})",
            )
        return price

    def table(self, document: Any) -> PriceTable:
        if not isinstance(document, dict):
            raise self.fail("the document", "must be a JSON object")
        regions = self.field(document, "regions")
        if not isinstance(regions, dict) or not regions:
            raise self.fail("regions", "must map region names to prices")
        return PriceTable(
            name=str(document.get("name", "")),
            checked=str(self.field(document, "checked")),
            currency=str(document.get("currency", "USD")),
            hours_per_month=self.price(document, "hours_per_month", "the document"),
            sources={str(k): str(v) for k, v in dict(document.get("sources", {})).items()},
            regions={str(name): self.region(str(name), data) for name, data in regions.items()},
            file=self.file,
        )

    def region(self, name: str, data: Any) -> RegionPrices:
        where = f"regions.{name}"

        def p(path: str) -> Decimal:
            return self.price(data, path, where)

        return RegionPrices(
            region=name,
            shard_hour=p("kinesis/shard_hour"),
            put_payload_units_per_million=p("kinesis/put_payload_units_per_million"),
            on_demand_stream_hour=p("kinesis/on_demand_stream_hour"),
            on_demand_ingest_per_gb=p("kinesis/on_demand_ingest_per_gb"),
            on_demand_retrieval_per_gb=p("kinesis/on_demand_retrieval_per_gb"),
            lambda_requests_per_million=p("lambda/requests_per_million"),
            lambda_gb_second={arch: p(f"lambda/gb_second/{arch}") for arch in ARCHITECTURES},
            sqs_requests_per_million=p("sqs/requests_per_million"),
            alarm_month=p("cloudwatch/alarm_month"),
            dashboard_month=p("cloudwatch/dashboard_month"),
            log_ingestion_per_gb=p("cloudwatch/log_ingestion_per_gb"),
            storm_instance_hour=p("ec2/m1.large_hour"),
            # Absent from a table made before they were priced: the field's default stands.
            **{
                name: p(path)
                for name, path in (
                    ("custom_metric_month", "cloudwatch/custom_metric_month"),
                    ("kms_key_month", "kms/key_month"),
                    ("firehose_ingest_per_gb", "firehose/ingest_per_gb"),
                )
                if _has(data, path)
            },
            advantage=AdvantagePrices(
                ingest_per_gb=p("kinesis/advantage_ingest_per_gb"),
                retrieval_per_gb=p("kinesis/advantage_retrieval_per_gb"),
                minimum_mib_per_second=p("kinesis/advantage_minimum_mib_per_second"),
            )
            if _has(data, "kinesis/advantage_ingest_per_gb")
            else None,
            cluster=ClusterPrices(
                worker_hour=p("ec2/c7g.xlarge_hour"),
                coordinator_hour=p("ec2/m7g.large_hour"),
                zookeeper_hour=p("ec2/t4g.medium_hour"),
                volume_gb_month=p("ec2/gp3_gb_month"),
                kpu_hour=p("flink/kpu_hour"),
                kpu_storage_gb_month=p("flink/running_storage_gb_month"),
            )
            if _has(data, "flink")
            else None,
            unconfirmed=tuple(str(u) for u in data.get("unconfirmed", ()))
            if isinstance(data, dict)
            else (),
        )


def _has(data: Any, path: str) -> bool:
    """Whether a table's region has an optional section (tables from before it lack it)."""
    for key in path.split("/"):
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True
