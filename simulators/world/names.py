"""Name tables for the seeded district: coherent, geocodable addresses.

Faker's zh_CN addresses are random strings of provinces and roads; a utility's
addresses must sit on real streets of one district, so we keep our own tables.
"""

CITY = "江城市"
DISTRICT = "临江区"
AREA_CODE = "0571"

# East-west roads, south to north. (name, width class: 1 trunk, 2 secondary, 3 branch)
EW_ROADS: tuple[tuple[str, int], ...] = (
    ("江滨大道", 1),
    ("人民路", 2),
    ("解放路", 1),
    ("建设路", 3),
    ("中山路", 2),
    ("新华路", 3),
    ("和平路", 1),
    ("胜利路", 3),
    ("光明路", 2),
)

# North-south streets, west to east.
NS_ROADS: tuple[tuple[str, int], ...] = (
    ("东风街", 2),
    ("朝阳街", 3),
    ("青年街", 2),
    ("文化街", 3),
    ("工人街", 1),
    ("育才街", 3),
    ("春晓街", 2),
    ("兴业街", 3),
    ("幸福街", 1),
    ("红星街", 3),
    ("团结街", 2),
)

COMPOUND_PREFIXES: tuple[str, ...] = (
    "锦绣",
    "翠苑",
    "金色",
    "阳光",
    "碧水",
    "东方",
    "春江",
    "紫荆",
    "梧桐",
    "枫林",
    "星河",
    "御景",
    "绿城",
    "华府",
    "龙湖",
    "天河",
    "滨江",
    "南苑",
    "北苑",
    "丽景",
    "桂花",
    "玉兰",
    "香樟",
    "银杏",
    "清风",
    "明月",
    "朝晖",
    "湖畔",
    "云栖",
    "望江",
)
COMPOUND_SUFFIXES: tuple[str, ...] = ("花园", "家园", "小区", "新村", "公寓", "雅苑", "名邸", "嘉园")

SHOP_KINDS: tuple[tuple[str, str], ...] = (
    # (shop name suffix, 用水性质)
    ("餐馆", "03"),
    ("理发店", "03"),
    ("便利店", "03"),
    ("洗车行", "04"),
    ("浴室", "04"),
    ("社区卫生服务站", "02"),
    ("幼儿园", "02"),
    ("街道办事处", "02"),
    ("水果店", "03"),
    ("宾馆", "03"),
)

GRID_ROWS = 4
GRID_COLS = 4

# District bounds in CGCS2000 degrees (wkid 4490).
LON0 = 120.100
LAT0 = 30.250
LON_STEP = 0.006  # between north-south streets (~577 m)
LAT_STEP = 0.005  # between east-west roads (~555 m)
