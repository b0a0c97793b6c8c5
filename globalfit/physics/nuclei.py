"""Target nuclei for CEvNS: isotopes of Cs, I, Ar, Ge and Xe.

Each `Isotope` carries ``Z``, ``N``, the nuclear mass (atomic mass minus ``Z`` electron
masses; electron binding energies, < 0.1 MeV, are neglected), the natural abundance and
an rms radius used as the weak-charge radius of the Helm form factor.

The numbers are read from ``data/nuclei/isotopes.yaml`` (one row per isotope, with the
provenance and status of each column); their sources:

* atomic masses: AME2016/AME2020 (Wang et al., Chin. Phys. C 41 (2017) 030003);
* natural abundances: IUPAC 2013 isotopic compositions;
* rms charge radii: Angeli & Marinova, At. Data Nucl. Data Tables 99 (2013) 69. They are
  used as the nuclear (weak-charge) rms radius of the Helm form factor; the neutron skin
  of Cs/I (~0.1-0.3 fm) is not added here but is covered by the radius nuisance and the
  form-factor systematic (``docs/cevns.md``).
"""
from __future__ import annotations

from dataclasses import dataclass

from globalfit.datafile import data_value
from globalfit.paths import data_path
from globalfit.physics.constants import ATOMIC_MASS_UNIT_GEV, ELECTRON_MASS_GEV

ISOTOPE_FILE = data_path("nuclei", "isotopes.yaml")
"""Natural isotopic composition, masses and radii of the target elements, with provenance."""
ISOTOPE_COLUMNS = ("z", "n", "atomic_mass_u", "abundance", "rms_radius_fm")


@dataclass(frozen=True)
class Isotope:
    """One isotope as CEvNS sees it.

    Attributes
    ----------
    name : str
        e.g. ``"Cs133"``.
    z, n : int
        Proton and neutron numbers.
    atomic_mass_u : float
        Atomic mass in unified atomic mass units.
    abundance : float
        Natural abundance (fraction of atoms of this element).
    rms_radius_fm : float
        Nuclear rms radius in fm (used by the Helm form factor).
    """

    name: str
    z: int
    n: int
    atomic_mass_u: float
    abundance: float
    rms_radius_fm: float

    @property
    def mass_number(self) -> int:
        return self.z + self.n

    @property
    def mass_gev(self) -> float:
        """Nuclear mass in GeV (atomic mass minus the electrons)."""
        return self.atomic_mass_u * ATOMIC_MASS_UNIT_GEV - self.z * ELECTRON_MASS_GEV




def available_elements() -> list[str]:
    """Symbols of the elements in ``data/nuclei/isotopes.yaml``."""
    return sorted(data_value(ISOTOPE_FILE, "elements"))


def element(symbol: str) -> tuple[Isotope, ...]:
    """Isotopes of element ``symbol`` (``"Cs"``, ``"I"``, ``"Ar"``, ``"Ge"``, ``"Xe"``).

    Raises
    ------
    ValueError
        If the element is not in ``data/nuclei/isotopes.yaml``.
    globalfit.datafile.MissingQuantityError
        If a row lacks one of `ISOTOPE_COLUMNS` (the error names the key).
    """
    if symbol not in data_value(ISOTOPE_FILE, "elements"):
        raise ValueError(f"element {symbol!r} not available; choose from {available_elements()}")
    isotopes = []
    for index in range(len(data_value(ISOTOPE_FILE, f"elements.{symbol}"))):
        key = f"elements.{symbol}.{index}"
        z, n, mass, abundance, radius = (data_value(ISOTOPE_FILE, f"{key}.{c}") for c in ISOTOPE_COLUMNS)
        isotopes.append(Isotope(str(data_value(ISOTOPE_FILE, f"{key}.name")), int(z), int(n), float(mass),
                                float(abundance), float(radius)))
    return tuple(isotopes)


def molar_mass_g(composition: dict[str, int]) -> float:
    """Molar mass in g/mol of a compound, e.g. ``{"Cs": 1, "I": 1}`` (natural abundances)."""
    total = 0.0
    for symbol, count in composition.items():
        isotopes = element(symbol)
        weight = sum(i.abundance for i in isotopes)
        total += count * sum(i.abundance * i.atomic_mass_u for i in isotopes) / weight
    return total


def target_isotopes(composition: dict[str, int], detector_mass_kg: float):
    """Isotopes of a detector and the number of nuclei of each.

    Parameters
    ----------
    composition : dict
        Atoms per formula unit, e.g. ``{"Cs": 1, "I": 1}`` or ``{"Ar": 1}``.
    detector_mass_kg : float
        Target mass in kg.

    Returns
    -------
    list of (Isotope, float)
        Each isotope with its number of nuclei in the detector.
    """
    from globalfit.physics.constants import AVOGADRO_PER_MOL

    if detector_mass_kg <= 0:
        raise ValueError(f"detector_mass_kg must be positive, got {detector_mass_kg}")
    formula_units = detector_mass_kg * 1.0e3 / molar_mass_g(composition) * AVOGADRO_PER_MOL
    result = []
    for symbol, count in composition.items():
        isotopes = element(symbol)
        weight = sum(i.abundance for i in isotopes)
        for isotope in isotopes:
            result.append((isotope, formula_units * count * isotope.abundance / weight))
    return result
