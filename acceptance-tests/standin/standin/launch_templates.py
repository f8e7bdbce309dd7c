"""Launch template versions as the EC2 API Reference documents
DescribeLaunchTemplateVersions and CreateLaunchTemplateVersion, so a client
can find with one paged call which templates launch an AMI.

DescribeLaunchTemplateVersions (Versions, LaunchTemplateId/Name, MinVersion,
MaxVersion, Filters, MaxResults, NextToken):

- without a template id or name it describes the latest and/or default
  version of every launch template in the account: Versions must then be
  `$Latest`, `$Default` or both (the reference allows the two together and
  no version numbers in this form);
- a version is answered once even when it is both a template's latest and its
  default version (moto listed it twice);
- filters apply to the versions' launch template data; `image-id` is
  LaunchTemplateData.ImageId (moto ignored every filter). Modelled filters:
  image-id, instance-type, is-default-version, ebs-optimized, kernel-id,
  ram-disk-id, iam-instance-profile (the profile ARN or name),
  http-endpoint, http-tokens, host-resource-group-arn,
  license-configuration-arn, network-card-index; another name is
  InvalidParameterValue ("The filter '...' is invalid", EC2's answer for an
  unknown filter), create-time and http-protocol-ipv4 included;
- MaxResults is 1..200 (the reference's range; outside it the stand-in
  answers InvalidParameterValue, AWS names no code) and a page holds at most
  that many versions, with NextToken while more remain (moto cut the answer
  at 15 without a token); without MaxResults everything is answered. Versions
  are ordered by template id, then version number, and the token (opaque, as
  in paging.py) names the last version of its page, so versions created
  between pages never make a page repeat or skip one;
- for one template without Versions, MinVersion and MaxVersion bound the
  version numbers, both inclusive, as moto reads them (the reference's "after
  which" / "up to which" does not settle the lower bound);
- the id or name, "but not both": both is InvalidParameterCombination (as
  moto already answers ModifyLaunchTemplate); a version that is not a
  positive number of an existing version is
  InvalidLaunchTemplateId.VersionNotFound (moto read `0` as the latest).

CreateLaunchTemplateVersion SourceVersion (ignored by moto): the new version
inherits the source version's launch parameters; the parameters given in
LaunchTemplateData replace the inherited ones of the same name (top-level
members such as ImageId or BlockDeviceMappings), and inherited block device
mappings lose their snapshot ids (the reference: snapshots in the mappings
are not carried over unless given again).

ModifyLaunchTemplate DefaultVersion (wire name SetDefaultVersion) works in
moto as documented and is left as it is.
"""

from __future__ import annotations

import copy
import fnmatch
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidLaunchTemplateVersionNotFound, MissingParameter
from moto.ec2.responses import EC2Response
from moto.ec2.utils import parse_user_data

from . import paging
from .errors import ec2_error

ACTION = "DescribeLaunchTemplateVersions"
MIN_RESULTS, MAX_RESULTS = 1, 200
LATEST, DEFAULT = "$Latest", "$Default"
ALL_TEMPLATES_USAGE = (
    f"To describe the latest or default version of all your launch templates, specify "
    f"{LATEST}, {DEFAULT} or both as Versions, and no template id, name or version number."
)


class VersionView:
    """One launch template version as a filterable, pageable item; `id` orders
    versions by template, then version number."""

    def __init__(self, template: Any, version: Any) -> None:
        self.template = template
        self.version = version
        self.id = f"{template.id}/{version.number:010d}"

    def filter_values(self, name: str) -> list[str]:
        """The values filter `name` compares (any may match); an unknown name is refused."""
        data = self.version.data
        pick = _FILTERS.get(name)
        if pick is None:
            raise ec2_error("InvalidParameterValue", f"The filter '{name}' is invalid")
        value = pick(data, self)
        values = value if isinstance(value, list) else [value]
        return [_text(v) for v in values if v is not None and v != ""]


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _members(data: dict[str, Any], list_name: str, member: str) -> list[Any]:
    return [item.get(member) for item in data.get(list_name) or [] if isinstance(item, dict)]


_FILTERS = {
    "image-id": lambda d, v: d.get("ImageId"),
    "instance-type": lambda d, v: d.get("InstanceType"),
    "is-default-version": lambda d, v: v.template.is_default(v.version),
    "ebs-optimized": lambda d, v: d.get("EbsOptimized"),
    "kernel-id": lambda d, v: d.get("KernelId"),
    "ram-disk-id": lambda d, v: d.get("RamDiskId"),
    "iam-instance-profile": lambda d, v: [(d.get("IamInstanceProfile") or {}).get(k) for k in ("Arn", "Name")],
    "http-endpoint": lambda d, v: (d.get("MetadataOptions") or {}).get("HttpEndpoint"),
    "http-tokens": lambda d, v: (d.get("MetadataOptions") or {}).get("HttpTokens"),
    "host-resource-group-arn": lambda d, v: (d.get("Placement") or {}).get("HostResourceGroupArn"),
    "license-configuration-arn": lambda d, v: _members(d, "LicenseSpecifications", "LicenseConfigurationArn"),
    "network-card-index": lambda d, v: _members(d, "NetworkInterfaces", "NetworkCardIndex"),
}


def _matches(view: VersionView, filters: dict[str, list[str]]) -> bool:
    """Every filter holds; within one, any value (EC2 wildcards * and ?) matches any of the item's."""
    for name, patterns in filters.items():
        values = view.filter_values(name)
        if not any(fnmatch.fnmatchcase(v, p) for v in values for p in patterns):
            return False
    return True


def _page_size(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    try:
        size = int(raw)
    except (TypeError, ValueError):
        size = None
    if size is None or not MIN_RESULTS <= size <= MAX_RESULTS:
        raise ec2_error(
            "InvalidParameterValue",
            f"Value ( {raw} ) for parameter maxResults is invalid. "
            f"Expecting a value between {MIN_RESULTS} and {MAX_RESULTS}.",
        )
    return size


def resolve_version(template: Any, raw: Any) -> Any:
    """`$Latest`, `$Default` or the number of an existing version of `template`."""
    text = str(raw)
    if text.lower() == LATEST.lower():
        return template.latest_version()
    if text.lower() == DEFAULT.lower():
        return template.default_version()
    if text.isdigit() and 1 <= int(text) <= len(template.versions):
        return template.versions[int(text) - 1]
    raise InvalidLaunchTemplateVersionNotFound(template_id=template.id, version=text)


def named_template(self: EC2Response) -> Any | None:
    """The template the request names by LaunchTemplateId or LaunchTemplateName, None if neither."""
    name = self._get_param("LaunchTemplateName")
    template_id = self._get_param("LaunchTemplateId")
    if name and template_id:
        raise ec2_error(
            "InvalidParameterCombination",
            "Specify either the launch template ID or the launch template name, not both.",
        )
    if name:
        return self.ec2_backend.get_launch_template_by_name(name)
    if template_id:
        return self.ec2_backend.get_launch_template(template_id)
    return None


def _selected(self: EC2Response, template: Any | None, versions: list[str]) -> list[VersionView]:
    """The versions the request selects, each once."""
    if template is None:
        if not versions:
            raise MissingParameter(ALL_TEMPLATES_USAGE)
        if any(v not in (LATEST, DEFAULT) for v in versions):
            raise ec2_error("InvalidParameterValue", ALL_TEMPLATES_USAGE)
        pairs = [(t, resolve_version(t, v)) for t in self.ec2_backend.launch_templates.values()
                 for v in versions]
    elif versions:
        pairs = [(template, resolve_version(template, v)) for v in versions]
    else:
        low = self._get_int_param("MinVersion") or 1
        high = self._get_int_param("MaxVersion") or len(template.versions)
        pairs = [(template, v) for v in template.versions if low <= v.number <= high]
    views = [VersionView(t, v) for t, v in pairs]
    return list({view.id: view for view in views}.values())


def describe_launch_template_versions(self: EC2Response) -> ActionResult:
    template = named_template(self)
    versions = self._get_param("Versions", []) or []
    filters = self._filters_from_querystring()
    size = _page_size(self._get_param("MaxResults"))
    self.error_on_dryrun()
    views = [view for view in _selected(self, template, versions) if _matches(view, filters)]
    page, token = paging.paginate(ACTION, views, size, self._get_param("NextToken"))
    result: dict[str, Any] = {"LaunchTemplateVersions": [_version_result(self, v.template, v.version)
                                                         for v in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def _version_result(self: EC2Response, template: Any, version: Any) -> dict[str, Any]:
    return {
        "CreateTime": version.create_time,
        "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
        "DefaultVersion": template.is_default(version),
        "LaunchTemplateData": version.data,
        "LaunchTemplateId": template.id,
        "LaunchTemplateName": template.name,
        "VersionDescription": version.description,
        "VersionNumber": version.number,
    }


def inherit(source: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The new version's data: the source's parameters, those given replacing
    the ones of the same name; inherited block device mappings drop their snapshots."""
    data = copy.deepcopy(source)
    for mapping in data.get("BlockDeviceMappings") or []:
        if isinstance(mapping.get("Ebs"), dict):
            mapping["Ebs"].pop("SnapshotId", None)
    data.update(given)
    return data


def create_launch_template_version(self: EC2Response) -> ActionResult:
    template = named_template(self)
    if template is None:
        raise MissingParameter("The request must contain the parameter LaunchTemplateId or LaunchTemplateName")
    given = dict(self._get_param("LaunchTemplateData", {}) or {})
    if "UserData" in given:
        # Stored decoded-and-checked, as moto's CreateLaunchTemplate stores it.
        given["UserData"] = parse_user_data(self._get_param("LaunchTemplateData.UserData"))
    source = self._get_param("SourceVersion")
    self.error_on_dryrun()
    data = inherit(resolve_version(template, source).data, given) if source else given
    version = template.create_version(data, self._get_param("VersionDescription"))
    return ActionResult({"LaunchTemplateVersion": _version_result(self, template, version)})


def install() -> None:
    EC2Response.describe_launch_template_versions = describe_launch_template_versions
    EC2Response.create_launch_template_version = create_launch_template_version
