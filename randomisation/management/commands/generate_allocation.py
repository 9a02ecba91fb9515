from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from patients.models import AllocationList, Site
from randomisation import allocation, selectors
from randomisation.services import allocation_list_create, allocation_list_generate


class Command(BaseCommand):
    help = (
        "Create the allocation list: 1:1 permuted blocks of random size, stratified by site and "
        "baseline B12 deficiency, from a seed; or load a statistician's CSV with --from-csv."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int)
        parser.add_argument("--per-stratum", type=int, default=40)
        parser.add_argument("--block-sizes", default="2,4,6")
        parser.add_argument("--sites", help="comma-separated site codes (default: every site)")
        parser.add_argument("--from-csv", type=Path, help="load this CSV instead of generating")
        parser.add_argument("--csv-out", type=Path, help="also write the list to this CSV file")

    def handle(self, *args, **options):
        sites = (
            [c.strip() for c in options["sites"].split(",") if c.strip()]
            if options["sites"]
            else list(Site.objects.values_list("code", flat=True))
        )
        if not sites:
            raise CommandError("No sites exist yet; create them first.")
        try:
            if options["from_csv"]:
                text = options["from_csv"].read_text(encoding="utf-8-sig")
                slots = allocation.parse_csv(text, known_sites=sites)
                new_list = allocation_list_create(
                    slots=slots,
                    user=None,
                    source=AllocationList.Source.UPLOADED,
                    file_name=options["from_csv"].name,
                )
            else:
                if options["seed"] is None:
                    raise CommandError("--seed is required to generate a list.")
                sizes = [int(s) for s in options["block_sizes"].split(",") if s.strip()]
                new_list = allocation_list_generate(
                    seed=options["seed"],
                    sites=sites,
                    per_stratum=options["per_stratum"],
                    block_sizes=sizes,
                    user=None,
                )
                slots = selectors.list_slots(new_list)
        except allocation.AllocationListError as error:
            raise CommandError("\n".join(error.errors)) from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if options["csv_out"]:
            options["csv_out"].write_text(allocation.to_csv(slots), encoding="utf-8")
        self.stdout.write(
            f"Allocation list {new_list.pk} active: {len(slots)} slots in "
            f"{len({s.stratum for s in slots})} strata."
        )
